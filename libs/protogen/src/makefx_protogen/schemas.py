"""One JSON Schema (draft 2020-12) per message and per HTTP body, in wire form.

Schemas are pydantic's *validation* schemas by alias: they describe what a receiver
accepts, which is the contract. A field with a default may be omitted on the wire (our
own senders always include it). `type` is always required: every receiver dispatches
on it, so a message without it is never valid on the wire.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from makefx_contracts.base import Message, Model, Request
from makefx_protogen.catalog import Catalog, type_literal

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:makefx:message:"
BODY_ID_PREFIX = "urn:makefx:http:"
DEFS = "#/$defs/"


class _WireSchema(GenerateJsonSchema):
    # pydantic's field titles are the alias title-cased ("Spaceid"): noise for every reader.
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def schema_path(message_id: str) -> str:
    """Where a message's schema lives in proto/: `json-schema/identity.getMembership.json`."""
    return f"json-schema/{message_id}.json"


def message_schemas(catalog: Catalog) -> dict[type[Message], dict[str, Any]]:
    """Each message's schema, in catalog order; each schema is self-contained (its own `$defs`)."""
    messages = catalog.messages
    if not messages:
        return {}
    refs, top = models_json_schema(
        [(message, "validation") for message in messages],
        by_alias=True,
        ref_template=DEFS + "{model}",
        schema_generator=_WireSchema,
    )
    defs: dict[str, Any] = top.get("$defs", {})
    names: dict[type[Message], str] = {}
    for message in messages:
        name = refs[(message, "validation")]["$ref"].removeprefix(DEFS)
        if name != message.__name__:
            raise ValueError(
                f"{message.__module__}.{message.__qualname__} shares its name with another model; "
                "rename one (the frontend imports every type by name)"
            )
        names[message] = name
        _require_type(defs[name])
    schemas = {}
    for message in messages:
        name = names[message]
        schema: dict[str, Any] = {"$schema": DIALECT, "$id": ID_PREFIX + catalog.ids[message]}
        schema.update(copy.deepcopy(defs[name]))
        schema["x-type"] = type_literal(message)
        schema["x-python"] = f"{message.__module__}.{message.__qualname__}"
        if message.subject is not None:
            schema["x-subject"] = message.subject.template
        reply = getattr(message, "reply", None) if issubclass(message, Request) else None
        if reply is not None:
            schema["x-reply"] = {"type": type_literal(reply), "title": reply.__name__}
        closure = referenced_defs(defs[name], defs)
        if closure:
            schema["$defs"] = {ref: copy.deepcopy(defs[ref]) for ref in sorted(closure)}
        schemas[message] = schema
    return schemas


def body_schemas(catalog: Catalog) -> dict[type[Model], dict[str, Any]]:
    """Each HTTP body's schema, in catalog order, self-contained like a message's (no `type`: the route says it)."""
    bodies = catalog.bodies
    if not bodies:
        return {}
    refs, top = models_json_schema(
        [(body, "validation") for body in bodies],
        by_alias=True,
        ref_template=DEFS + "{model}",
        schema_generator=_WireSchema,
    )
    defs: dict[str, Any] = top.get("$defs", {})
    schemas = {}
    for body in bodies:
        name = refs[(body, "validation")]["$ref"].removeprefix(DEFS)
        if name != body.__name__:
            raise ValueError(
                f"{body.__module__}.{body.__qualname__} shares its name with another model; "
                "rename one (the frontend imports every type by name)"
            )
        schema: dict[str, Any] = {"$schema": DIALECT, "$id": BODY_ID_PREFIX + name}
        schema.update(copy.deepcopy(defs[name]))
        schema["x-python"] = f"{body.__module__}.{body.__qualname__}"
        closure = referenced_defs(defs[name], defs)
        if closure:
            schema["$defs"] = {ref: copy.deepcopy(defs[ref]) for ref in sorted(closure)}
        schemas[body] = schema
    return schemas


def referenced_defs(schema: Any, defs: Mapping[str, Any]) -> set[str]:
    """Names of every `$defs` entry `schema` reaches, transitively."""
    found: set[str] = set()
    pending = list(_refs(schema))
    while pending:
        name = pending.pop()
        if name in found:
            continue
        if name not in defs:
            raise ValueError(f"$ref to {DEFS}{name}, which is not defined")
        found.add(name)
        pending.extend(_refs(defs[name]))
    return found


def _refs(schema: Any) -> Iterable[str]:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(DEFS):
            yield ref.removeprefix(DEFS)
        for key, value in schema.items():
            if key != "$defs":
                yield from _refs(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _refs(item)


def _require_type(schema: dict[str, Any]) -> None:
    required = [name for name in schema.get("required", []) if name != "type"]
    schema["required"] = ["type", *required]


def dump(document: Any) -> str:
    """The one JSON layout of every generated file: sorted keys, two spaces, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
