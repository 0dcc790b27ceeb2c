"""Settings of the generation service (environment: MAKEFX_*)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr

from makefx_contracts.rows import MediaKind
from makefx_settings import ServiceSettings


class GenerationSettings(ServiceSettings):
    service_name: str = "generation"
    http_port: int = 8080

    # Provider keys; a provider without one is replaced by `local` (real files made offline).
    # Each is also read from the provider's usual variable, as the deploy files pass them.
    gemini_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("gemini_api_key", "MAKEFX_GEMINI_API_KEY", "GEMINI_API_KEY")
    )
    gemini_base_url: str | None = None
    elevenlabs_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("elevenlabs_api_key", "MAKEFX_ELEVENLABS_API_KEY", "ELEVENLABS_API_KEY"),
    )
    elevenlabs_base_url: str | None = None
    # Veo and Lyria run on Vertex AI: an express-mode API key, or a project with application default credentials.
    vertex_api_key: SecretStr | None = None
    vertex_project: str | None = Field(
        default=None, validation_alias=AliasChoices("vertex_project", "MAKEFX_VERTEX_PROJECT", "GOOGLE_CLOUD_PROJECT")
    )
    vertex_location: str = Field(
        default="us-central1",
        validation_alias=AliasChoices("vertex_location", "MAKEFX_VERTEX_LOCATION", "GOOGLE_CLOUD_LOCATION"),
    )
    vertex_base_url: str | None = None
    veo_poll_seconds: float = Field(default=5.0, ge=0)

    # The durable consumer of GEN_JOBS shared by every worker.
    jobs_durable: str = "generation"
    # Jobs one worker runs at once. Provider calls mostly wait (seconds to minutes), so a worker
    # holds many; the `local` provider's drawing runs in threads.
    jobs_concurrency: int = Field(default=16, ge=1, le=256)
    # Without a sign of life for this long, JetStream hands the job to another worker.
    jobs_ack_wait_seconds: float = Field(default=60, gt=0)
    jobs_max_deliver: int = Field(default=5, ge=1)
    # Redelivery delays after a failure that is not the provider's (the owner or the store unreachable).
    jobs_backoff_seconds: list[float] = Field(default_factory=lambda: [1, 5, 15, 60])

    # A provider call that is refused with 429 or 5xx is retried inside the attempt.
    provider_retries: int = Field(default=3, ge=0)
    provider_backoff_seconds: float = Field(default=1.0, ge=0)
    # The longest one attempt may take, per media kind.
    image_timeout_seconds: float = Field(default=120, gt=0)
    audio_timeout_seconds: float = Field(default=180, gt=0)
    video_timeout_seconds: float = Field(default=900, gt=0)
    # Asking billing whether the space's budget allows a generation; without an answer in time it goes ahead.
    budget_timeout_seconds: float = Field(default=2, gt=0)
    # Storing bytes: the PUT to the signed URL and the ingest (which decodes and derives artifacts).
    ingest_timeout_seconds: float = Field(default=120, gt=0)

    def timeout(self, kind: MediaKind) -> float:
        return {
            MediaKind.IMAGE: self.image_timeout_seconds,
            MediaKind.AUDIO: self.audio_timeout_seconds,
            MediaKind.VIDEO: self.video_timeout_seconds,
        }[kind]
