"""The gateway's HTTP bodies (makefx_contracts.http) travel through `make proto` like the messages."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import Field, create_model

from makefx_contracts import http
from makefx_contracts.base import Message, Model
from makefx_protogen import Catalog, discover, generate, reference
from makefx_protogen.catalog import http_bodies
from makefx_protogen.schemas import body_schemas


class Pin(Model):
    label: str = Field(min_length=1, max_length=20)


class PinBoard(Model):
    """Every pin of a board."""

    pins: list[Pin]
    board_name: str | None = None


class Pinned(Message):
    type: Literal["syn:pinned"] = "syn:pinned"
    pin: Pin


def test_discovery_finds_every_body_of_contracts_http_and_nothing_else() -> None:
    bodies = discover().bodies
    assert {http.AuthSession, http.Register, http.SpaceOut, http.StartUpload, http.BudgetIn, http.ErrorBody} <= set(
        bodies
    )
    assert all(body.__module__ == "makefx_contracts.http" for body in bodies)
    assert not any(issubclass(body, Message) for body in bodies)
    assert http.UserFacts not in bodies  # a protocol of the gateway's objects, not a body


def test_bodies_are_the_models_a_module_defines_not_those_it_imports() -> None:
    assert http.Position not in http_bodies(http)  # imported from makefx_contracts.space
    assert list(http_bodies(http)) == sorted(http_bodies(http), key=lambda body: body.__name__)


def test_body_schema_is_the_wire_form_without_a_type_and_with_its_own_defs() -> None:
    schema = body_schemas(Catalog(messages=(), bodies=(PinBoard,)))[PinBoard]
    assert schema["title"] == "PinBoard"
    assert schema["required"] == ["pins"]
    assert set(schema["properties"]) == {"pins", "boardName"}
    assert "type" not in schema["properties"]
    assert schema["$defs"]["Pin"]["properties"]["label"]["maxLength"] == 20


def test_typescript_declares_the_bodies_beside_the_messages() -> None:
    source = generate(Catalog(messages=(Pinned,), bodies=(PinBoard, Pin)))["ts/messages.ts"]
    assert "export interface PinBoard {\n  pins: Pin[];\n  boardName?: string | null;\n}" in source
    assert source.count("export interface Pin {") == 1  # shared by a message and a body, declared once
    any_message = source[source.index("export type AnyMessage") :]
    assert "| Pinned" in any_message
    assert "PinBoard" not in any_message  # bodies are not messages: no `type`, no index entry


def test_protocol_reference_lists_each_body_with_its_fields() -> None:
    text = reference(Catalog(messages=(Pinned,), bodies=(PinBoard,)))
    section = text[text.index("## HTTP bodies") :]
    assert "### PinBoard" in section
    assert "Every pin of a board." in section
    assert "| `boardName` | `string \\| null` | no |" in section


def test_a_body_named_like_a_message_is_refused() -> None:
    clash = create_model("Pinned", __base__=Model, at=(int, ...))
    with pytest.raises(ValueError, match="two contracts are named Pinned"):
        Catalog(messages=(Pinned,), bodies=(clash,))


def test_the_committed_typescript_carries_the_gateway_bodies() -> None:
    source = generate(discover())["ts/messages.ts"]
    assert (
        "export interface AuthSession {\n  user: UserOut;\n  accessToken: string;\n"
        "  refreshToken: string;\n  expiresAt: string;\n}"
    ) in source
    assert "export interface ErrorBody {\n  error: ErrorDetail;\n}" in source
