"""Bytes <-> contract models, and the one mapping of failures to `ErrorReply` on the bus."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from makefx_contracts import ErrorReply, FxError, Message
from makefx_contracts.errors import InvalidMessage

M = TypeVar("M")


def encode(message: BaseModel) -> bytes:
    return message.model_dump_json(by_alias=True).encode()


def validation_details(error: ValidationError) -> dict[str, Any]:
    return {
        "errors": [
            {"loc": [str(part) for part in item["loc"]], "msg": item["msg"], "type": item["type"]}
            for item in error.errors(include_url=False, include_input=False)
        ]
    }


def decode(adapter: TypeAdapter[M], payload: bytes) -> M:
    """Decode a payload into a contract model, or raise `InvalidMessage` naming the fields."""
    try:
        return adapter.validate_json(payload)
    except ValidationError as error:
        raise InvalidMessage("message does not match its contract", details=validation_details(error)) from None


def decode_reply(reply_type: type[Message], payload: bytes) -> Message:
    """Decode a reply: the expected model, or raise the `FxError` an `ErrorReply` carries."""
    try:
        kind = json.loads(payload).get("type")
    except (ValueError, AttributeError):
        raise InvalidMessage("reply is not a JSON object") from None
    if kind == ErrorReply.type_name():
        raise FxError.from_reply(ErrorReply.model_validate_json(payload))
    return decode(TypeAdapter(reply_type), payload)
