"""The `anthropic` assistant: Claude through the `anthropic` SDK's Messages API, streamed.

The SDK retries 429, 529 and 5xx itself (`max_retries`, honouring `retry-after`); what is
still failing after that, a refused request (4xx) or an answer that cannot be read becomes
`AssistantFailed` with a sentence the person reading the chat understands.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
from anthropic.types import Message as ClaudeMessage

from makefx_chat.assistant import Answer, AssistantFailed, Conversation, ErrorCode, ProposedCall, TextSink
from makefx_contracts.chat import TOOLS
from makefx_contracts.rows import ChatMode

PROVIDER = "anthropic"


def tool_definitions() -> list[dict[str, Any]]:
    """`chat.TOOLS` as the Messages API takes them."""
    return [
        {"name": tool.name, "description": tool.description, "input_schema": tool.input_schema()}
        for tool in TOOLS.values()
    ]


class ClaudeAssistant:
    name = PROVIDER

    def __init__(
        self,
        client: anthropic.AsyncAnthropic,
        *,
        model: str,
        max_tokens: int,
        stream: bool = True,
    ) -> None:
        self.client = client
        self.model = model
        self.max_tokens = max_tokens
        self.stream = stream

    def request(self, conversation: Conversation) -> dict[str, Any]:
        """The Messages API parameters for `conversation`; tools only in actor mode."""
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": conversation.system,
            "messages": [{"role": said.role, "content": said.content} for said in conversation.messages],
        }
        if conversation.mode == ChatMode.ACTOR:
            params["tools"] = tool_definitions()
        return params

    async def answer(self, conversation: Conversation, on_text: TextSink) -> Answer:
        params = self.request(conversation)
        try:
            if self.stream:
                async with self.client.messages.stream(**params) as stream:
                    async for event in stream:
                        if event.type == "text" and event.text:
                            await on_text(event.text)
                    message = await stream.get_final_message()
            else:
                message = await self.client.messages.create(**params)
                text = "".join(block.text for block in message.content if block.type == "text")
                if text:
                    await on_text(text)
            return self._answer(message)
        except anthropic.APIStatusError as error:
            raise self._failed(*_status_sentence(error)) from error
        except anthropic.APIConnectionError as error:
            reason = "timed out" if isinstance(error, anthropic.APITimeoutError) else "could not be reached"
            raise self._failed("PROVIDER_FAILED", f"Claude {reason}; try again in a minute.") from error
        except (anthropic.AnthropicError, ValueError, TypeError, KeyError, AttributeError, AssertionError) as error:
            # A body that is not the Messages API's: invalid JSON, events out of order, missing fields.
            raise self._failed("PROVIDER_FAILED", "Claude sent an answer that could not be read; try again.") from error

    def _answer(self, message: ClaudeMessage) -> Answer:
        if message.stop_reason is None or message.usage is None:
            raise ValueError("the answer ended before Claude finished it")
        text = "".join(block.text for block in message.content if block.type == "text")
        calls = [
            ProposedCall(id=block.id, name=block.name, input=_as_object(block.input))
            for block in message.content
            if block.type == "tool_use"
        ]
        return Answer(
            text=text,
            provider=PROVIDER,
            model=message.model or self.model,
            input_tokens=message.usage.input_tokens or 0,
            output_tokens=message.usage.output_tokens or 0,
            stop_reason=message.stop_reason,
            tool_calls=calls,
        )

    def _failed(self, code: ErrorCode, message: str) -> AssistantFailed:
        return AssistantFailed(code, message, provider=PROVIDER, model=self.model)


def _as_object(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        decoded = json.loads(value) if value.strip() else {}
        if isinstance(decoded, dict):
            return decoded
    raise ValueError(f"a tool call's input is not an object: {value!r}")


# An `error` event inside a stream arrives with the stream's 200: its type tells what happened.
_STATUS_OF_ERROR_TYPE = {"rate_limit_error": 429, "overloaded_error": 529, "api_error": 500}


def _status_sentence(error: anthropic.APIStatusError) -> tuple[ErrorCode, str]:
    status = error.status_code
    if status < 400:
        status = _STATUS_OF_ERROR_TYPE.get(_api_error_type(error), 500)
    if status == 429:
        return "RATE_LIMITED", "Claude is receiving too many requests right now (429); try again in a minute."
    if status == 529:
        return "PROVIDER_FAILED", "Claude is overloaded right now (529); try again in a minute."
    if status >= 500:
        return "PROVIDER_FAILED", f"Claude is unavailable right now ({status}); try again in a minute."
    if status in (401, 403):
        return "PROVIDER_FAILED", f"Claude refused this service's API key ({status}); an administrator must fix it."
    detail = _api_message(error)
    return "PROVIDER_FAILED", f"Claude refused the request ({status}{': ' + detail if detail else ''})."


def _api_error(error: anthropic.APIStatusError) -> dict[str, Any]:
    body = error.body
    inner = body.get("error") if isinstance(body, dict) else None
    return inner if isinstance(inner, dict) else {}


def _api_error_type(error: anthropic.APIStatusError) -> str:
    return str(_api_error(error).get("type", ""))


def _api_message(error: anthropic.APIStatusError) -> str:
    message = _api_error(error).get("message")
    return message[:300] if isinstance(message, str) else ""
