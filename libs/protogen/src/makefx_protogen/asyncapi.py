"""The AsyncAPI 3.0 document of the bus: subjects as channels, requests as operations with replies."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from makefx_contracts.base import Message, Request
from makefx_contracts.errors import ErrorReply
from makefx_protogen.catalog import Catalog, type_literal
from makefx_protogen.channels import Channel, channels
from makefx_protogen.schemas import schema_path

REPLIES = "replies"

DESCRIPTION = (
    "Every subject of the Make Effects bus (NATS, JSON payloads with a `type` field), generated from "
    "libs/contracts by `make proto`. Operations are written from the receiving side: whoever subscribes to "
    "the channel, and for a request answers on the requester's reply inbox with the reply message or an "
    "`error` (ErrorReply). Payload schemas are the JSON Schema files in json-schema/. `x-stream` names the "
    "JetStream stream that captures a channel; `x-streams` and `x-kv-buckets` list the streams and key-value "
    "buckets the bus provisions."
)


def summary(message: type[Message]) -> str:
    doc = inspect.cleandoc(message.__doc__) if message.__doc__ else ""
    return doc.split("\n\n")[0].replace("\n", " ")


def asyncapi(catalog: Catalog) -> dict[str, Any]:
    """The AsyncAPI document as a dict (dump it with `schemas.dump`)."""
    ids = catalog.ids
    routed = channels(catalog)
    error_replies = [m for m in catalog.messages if issubclass(m, ErrorReply)]
    document: dict[str, Any] = {
        "asyncapi": "3.0.0",
        "info": {"title": "Make Effects bus", "version": catalog.version, "description": DESCRIPTION},
        "defaultContentType": "application/json",
        "channels": {channel.name: _channel(channel, ids) for channel in routed},
        "operations": _operations(routed, error_replies, ids),
        "components": {"messages": {ids[m]: _message(m, ids) for m in catalog.messages}},
    }
    replies = _reply_messages(routed, error_replies, ids)
    if replies:
        document["channels"][REPLIES] = {
            "address": None,
            "title": "reply inbox",
            "description": "The requester's NATS reply subject (an `_INBOX.` subject chosen per request).",
            "messages": {ids[m]: {"$ref": f"#/components/messages/{ids[m]}"} for m in replies},
        }
    if catalog.streams:
        document["x-streams"] = {
            stream.name: {
                "subjects": list(stream.subjects),
                "retention": stream.retention,
                "discard": stream.discard,
                "description": stream.description,
            }
            for stream in catalog.streams
        }
    if catalog.buckets:
        document["x-kv-buckets"] = {
            bucket.name: {"storage": bucket.storage, "description": bucket.description} for bucket in catalog.buckets
        }
    return document


def _channel(channel: Channel, ids: Mapping[type[Message], str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "address": channel.subject.template,
        "title": channel.name,
        "description": f"{channel.delivery}; the `{channel.name}` subject of makefx_contracts.subjects.",
        "messages": {ids[m]: {"$ref": f"#/components/messages/{ids[m]}"} for m in channel.messages},
    }
    if channel.subject.params:
        body["parameters"] = {}
        for param in channel.subject.params:
            parameter: dict[str, Any] = {"description": f"`{param}`: one subject token (letters, digits, `_`, `-`)."}
            if param in channel.bound:
                parameter["enum"] = list(channel.bound[param])
            body["parameters"][param] = parameter
    if channel.stream is not None:
        body["x-stream"] = channel.stream.name
    return body


def _operations(
    routed: list[Channel], error_replies: list[type[Message]], ids: Mapping[type[Message], str]
) -> dict[str, Any]:
    homes: dict[type[Message], int] = {}
    for channel in routed:
        for message in channel.messages:
            homes[message] = homes.get(message, 0) + 1
    operations: dict[str, Any] = {}
    for channel in routed:
        for message in channel.messages:
            op_id = ids[message] if homes[message] == 1 else f"{channel.name}.{ids[message]}"
            operation: dict[str, Any] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{channel.name}"},
                "messages": [{"$ref": f"#/channels/{channel.name}/messages/{ids[message]}"}],
            }
            if summary(message):
                operation["summary"] = summary(message)
            if issubclass(message, Request):
                answers = [message.reply, *error_replies]
                operation["reply"] = {
                    "channel": {"$ref": f"#/channels/{REPLIES}"},
                    "messages": [{"$ref": f"#/channels/{REPLIES}/messages/{ids[m]}"} for m in answers],
                }
            operations[op_id] = operation
    return dict(sorted(operations.items()))


def _reply_messages(
    routed: list[Channel], error_replies: list[type[Message]], ids: Mapping[type[Message], str]
) -> list[type[Message]]:
    replies = {request.reply: None for channel in routed for request in channel.requests}
    if not replies:
        return []
    return sorted({**replies, **dict.fromkeys(error_replies)}, key=lambda m: ids[m])


def _message(message: type[Message], ids: Mapping[type[Message], str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": type_literal(message),
        "title": message.__name__,
        "contentType": "application/json",
        "payload": {"$ref": f"./{schema_path(ids[message])}"},
    }
    if summary(message):
        body["summary"] = summary(message)
    if message.subject is not None:
        body["x-subject"] = message.subject.template
    return body
