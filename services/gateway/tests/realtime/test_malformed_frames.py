"""Garbage on a socket: every malformed frame gets one `error`, the socket stays open, the space is untouched."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets.sync.client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

ERROR_CODES = {"INVALID_MESSAGE", "UNKNOWN_MESSAGE_TYPE", "VALIDATION_ERROR"}
FRAMES = 1000

# Every client message type with values for its required fields that would pass validation.
VALID_FIELDS: dict[str, dict[str, Any]] = {
    "sync:request": {},
    "asset:create": {"name": "Hero", "assetType": "character"},
    "asset:update": {"assetId": "ast_1", "changes": {"name": "Hero"}},
    "asset:delete": {"assetId": "ast_1"},
    "asset:setActive": {"assetId": "ast_1", "variantId": "var_1"},
    "asset:fork": {"sourceVariantId": "var_1", "name": "Copy", "assetType": "character"},
    "variant:star": {"variantId": "var_1", "starred": True},
    "variant:delete": {"variantId": "var_1"},
    "lineage:sever": {"lineageId": "lin_1"},
    "presence:update": {},
}
OPTIONAL_FIELDS = {
    "sync:request": ["sinceSeq"],
    "asset:create": ["mediaKind", "parentAssetId", "position"],
    "presence:update": ["viewing"],
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
huge_numbers = st.sampled_from([10**30, -(10**30), 1e300, -1e300, 2**64, 10**4000])
# Never valid for any field of any client message: lists, objects of unknown keys, huge numbers.
wrong_values = (
    st.lists(json_values, max_size=4)
    | st.dictionaries(st.text(max_size=8).map(lambda key: f"junk:{key}"), json_values, min_size=1, max_size=3)
    | huge_numbers
)
request_ids = st.one_of(st.none(), st.text(min_size=1, max_size=40), json_values)


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _nested(depth: int, kind: str) -> str:
    return {
        "lists": "[" * depth + "]" * depth,
        "objects": '{"a":' * depth + "1" + "}" * depth,
        "unclosed": "[" * depth,
    }[kind]


@st.composite
def wrong_fields(draw: st.DrawFn) -> dict[str, Any]:
    """A known type whose fields cannot validate: one missing, one of a wrong kind, or one unknown."""
    type_ = draw(st.sampled_from(sorted(VALID_FIELDS)))
    message: dict[str, Any] = {"type": type_, **VALID_FIELDS[type_]}
    required = sorted(VALID_FIELDS[type_])
    fields = required + OPTIONAL_FIELDS.get(type_, [])
    corruptions = ["unknown field"] + (["missing field"] if required else []) + (["wrong value"] if fields else [])
    corruption = draw(st.sampled_from(corruptions))
    if corruption == "missing field":
        del message[draw(st.sampled_from(required))]
    elif corruption == "wrong value":
        field = draw(st.sampled_from(fields))
        # Any positive integer is a valid `sinceSeq`, however huge (see test_a_since_seq_beyond_…).
        is_seq = field == "sinceSeq"
        message[field] = draw(wrong_values.filter(lambda value: not (is_seq and _is_positive_int(value))))
    else:
        message[f"junk:{draw(st.text(max_size=12))}"] = draw(json_values)
    request_id = draw(request_ids)
    if request_id is not None:
        message["requestId"] = request_id
    return message


unknown_types = st.fixed_dictionaries(
    {"type": json_values.filter(lambda type_: not (isinstance(type_, str) and type_ in VALID_FIELDS))},
    optional={"requestId": request_ids, "assetId": json_values},
)

frames = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200),
    json_values.map(json.dumps),
    wrong_fields().map(json.dumps),
    unknown_types.map(json.dumps),
    st.builds(_nested, st.integers(1, 20_000), st.sampled_from(["lists", "objects", "unclosed"])),
    huge_numbers.map(lambda number: json.dumps({"type": "asset:create", "name": number, "assetType": "item"})),
    st.sampled_from(
        ['{"type": "sync:request", "sinceSeq": NaN}', "Infinity", '{"type": "asset:create", "x": -Infinity}']
    ),
)


def _echoed_request_id(frame: str | bytes) -> str | None:
    """The requestId the error must echo: the frame's own, when it is a JSON object with a string one."""
    try:
        body = json.loads(frame)
    except (ValueError, RecursionError):
        return None
    request_id = body.get("requestId") if isinstance(body, dict) else None
    return request_id if isinstance(request_id, str) else None


def _fuzz(url: str, token: str) -> tuple[int, dict[str, Any]]:
    """Runs in a thread (the gateway runs in the test's event loop): sends the frames, checks each answer."""
    sent = 0
    with websockets.sync.client.connect(
        url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=None
    ) as ws:

        def next_frame() -> dict[str, Any]:
            while (frame := json.loads(ws.recv(timeout=10)))["type"] == "presence:update":
                pass
            return frame

        @settings(
            max_examples=FRAMES,
            deadline=None,
            database=None,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
        )
        @given(frame=frames)
        def one_frame(frame: str | bytes) -> None:
            nonlocal sent
            ws.send(frame)
            answer = next_frame()
            assert answer["type"] == "error", (frame, answer)
            assert answer["code"] in ERROR_CODES, (frame, answer)
            assert answer["requestId"] == _echoed_request_id(frame), (frame, answer)
            sent += 1

        one_frame()
        # Still open and still answering, in order: the next frame is the state asked for.
        ws.send(json.dumps({"type": "sync:request"}))
        state = next_frame()
    return sent, state


async def test_a_thousand_malformed_frames_each_get_one_error_and_leave_the_socket_and_space_intact(
    shared_space, connect, socket_url, client
):
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token)
    await owner.mutate("asset:create", name="Hero", assetType="character")
    await owner.mutate("asset:create", name="Moon", assetType="scene")
    before = (await client.get(f"/api/spaces/{space.id}/assets", headers=space.owner.headers)).json()

    sent, state = await asyncio.to_thread(_fuzz, socket_url(space.id), space.editor.access_token)

    assert sent >= FRAMES
    after = (await client.get(f"/api/spaces/{space.id}/assets", headers=space.owner.headers)).json()
    assert after == before
    assert (state["type"], state["seq"], state["assets"]) == ("sync:state", before["seq"], before["assets"])
    # The other socket of the space saw nothing of it but presence.
    assert (await owner.call("presence:update"))["type"] == "ack"
    assert [frame["type"] for frame in owner.events()] == ["asset:created", "asset:created"]


async def test_a_since_seq_beyond_any_possible_seq_is_refused_as_invalid(shared_space, connect):
    space = await shared_space()
    peer = await connect(space.id, space.owner.access_token)
    refusal = await peer.call("sync:request", sinceSeq=2**64)
    assert (refusal["type"], refusal["code"]) == ("error", "INVALID_MESSAGE")
