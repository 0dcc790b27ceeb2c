"""Settings of the chat service (environment: MAKEFX_*)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr

from makefx_settings import ServiceSettings


class ChatSettings(ServiceSettings):
    service_name: str = "chat"
    http_port: int = 8080

    # Claude. Without a key the `local` assistant answers (offline, deterministic). The key is
    # also read from `ANTHROPIC_API_KEY`, as the deploy files pass it.
    anthropic_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("anthropic_api_key", "MAKEFX_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY"),
    )
    anthropic_base_url: str | None = None
    chat_model: str = Field(default="claude-sonnet-5-5", min_length=1, max_length=128)
    # The SDK retries 429, 529 and 5xx itself (honouring `retry-after`) this many times.
    anthropic_max_retries: int = Field(default=2, ge=0, le=10)
    anthropic_timeout_seconds: float = Field(default=120, gt=0)
    # Stream the answer (SSE); off, the reply arrives whole, as one delta.
    chat_stream: bool = True
    chat_max_tokens: int = Field(default=2048, ge=1, le=64_000)
    # The prompt's budget (system prompt and messages), estimated at ~4 characters a token:
    # the oldest messages are dropped first, then the least recently changed assets.
    chat_context_tokens: int = Field(default=12_000, ge=500)
    # How much of the space the owner sends at most, before the budget trims it further.
    chat_context_messages: int = Field(default=50, ge=0, le=500)
    chat_context_assets: int = Field(default=200, ge=0, le=1000)
    # Claude's price in budget credits (an image is 1 credit); the local assistant is free.
    chat_credits_per_1k_input_tokens: float = Field(default=0.075, ge=0)
    chat_credits_per_1k_output_tokens: float = Field(default=0.375, ge=0)

    # The durable consumer of CHAT shared by every chat worker.
    turns_durable: str = "chat"
    turns_concurrency: int = Field(default=4, ge=1, le=256)
    # Without a sign of life for this long, JetStream hands the turn to another worker.
    turns_ack_wait_seconds: float = Field(default=30, gt=0)
    turns_max_deliver: int = Field(default=5, ge=1)
    # Redelivery delays while the space's owner cannot be reached.
    turns_backoff_seconds: list[float] = Field(default_factory=lambda: [1, 5, 15, 60])
