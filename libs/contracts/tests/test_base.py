"""Subjects, messages and the error tree of the contracts library."""

from typing import ClassVar, Literal

import pytest
from pydantic import ValidationError

from makefx_contracts import ErrorCode, ErrorReply, FxError, Message, Subject
from makefx_contracts.errors import Moved, NotFound
from makefx_contracts.identity import GetMembership, Membership
from makefx_contracts.subjects import GENERATION_JOBS, IDENTITY, SPACE_EVENTS


def test_subject_fills_placeholders_and_exposes_its_wildcard():
    assert SPACE_EVENTS.fill(space_id="sp_1") == "fx.space.sp_1.events"
    assert SPACE_EVENTS.wildcard == "fx.space.*.events"
    assert SPACE_EVENTS.params == ("space_id",)


@pytest.mark.parametrize("bad", ["a.b", "*", ">", "", "a b", "a\nb"])
def test_subject_refuses_values_that_would_change_its_shape(bad):
    with pytest.raises(ValueError, match="not a valid subject token"):
        GENERATION_JOBS.fill(media_kind=bad)


def test_subject_bind_fixes_some_placeholders():
    assert IDENTITY.bind(op="membership").template == "fx.identity.membership"
    assert Subject("fx.{a}.{b}").bind(a="x").template == "fx.x.{b}"
    with pytest.raises(ValueError, match="has no"):
        IDENTITY.bind(nope="x")


def test_message_is_camel_case_on_the_wire_and_snake_case_in_python():
    query = GetMembership(space_id="s", user_id="u")
    assert query.model_dump() == {"type": "identity:getMembership", "spaceId": "s", "userId": "u"}
    assert GetMembership.model_validate({"spaceId": "s", "userId": "u"}) == query


def test_message_refuses_unknown_fields():
    with pytest.raises(ValidationError, match="extra"):
        GetMembership.model_validate({"spaceId": "s", "userId": "u", "admin": True})


def test_request_knows_its_reply_type():
    assert GetMembership.reply is Membership


def test_address_fills_the_subject_from_fields_and_extra_values():
    class Job(Message):
        type: Literal["test:job"] = "test:job"
        subject: ClassVar[Subject] = GENERATION_JOBS
        media_kind: str

    assert Job(media_kind="image").address() == "fx.gen.jobs.image"
    assert Job(media_kind="image").address(media_kind="video") == "fx.gen.jobs.video"


def test_error_reply_round_trips_into_the_matching_exception_class():
    error = Moved("space lives elsewhere", details={"owner": "state-2"})
    restored = FxError.from_reply(ErrorReply.model_validate_json(error.to_reply().to_json()))
    assert isinstance(restored, Moved)
    assert restored.owner == "state-2"
    assert restored.code is ErrorCode.MOVED


def test_every_error_code_has_exactly_one_exception_class():
    classes = FxError.__subclasses__()
    assert sorted(cls.code.value for cls in classes) == sorted(code.value for code in ErrorCode)
    assert FxError.from_reply(ErrorReply(code=ErrorCode.NOT_FOUND, message="x")).__class__ is NotFound
