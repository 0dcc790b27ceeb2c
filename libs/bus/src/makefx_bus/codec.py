"""Bytes <-> contract models, and the one mapping of failures to `ErrorReply` on the bus."""

from __future__ import annotations

import functools
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

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


@functools.cache
def _reply_adapter(reply_type: type[Message]) -> TypeAdapter[Any]:
    # One pass over the payload: the reply or an ErrorReply, told apart by `type`.
    return TypeAdapter(Annotated[reply_type | ErrorReply, Field(discriminator="type")])


def decode_reply(reply_type: type[Message], payload: bytes) -> Message:
    """Decode a reply: the expected model, or raise the `FxError` an `ErrorReply` carries."""
    reply = decode(_reply_adapter(reply_type), payload)
    if isinstance(reply, ErrorReply):
        raise FxError.from_reply(reply)
    return reply
