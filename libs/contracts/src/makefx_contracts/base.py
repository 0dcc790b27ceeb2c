"""The base every message derives from: camelCase on the wire, a `type` literal, one subject."""

from __future__ import annotations

import re
import string
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")


class Subject:
    """A NATS subject template such as ``fx.space.{space_id}.events``.

    Declared once on a message class; ``fill`` makes the concrete subject and
    ``wildcard`` the pattern a subscriber listens on. Placeholders only ever
    receive single tokens, so an id can never smuggle ``.``, ``*`` or ``>``
    into a subject.
    """

    __slots__ = ("params", "template")

    def __init__(self, template: str) -> None:
        self.template = template
        self.params = tuple(name for _, name, _, _ in string.Formatter().parse(template) if name is not None)

    def fill(self, **values: str) -> str:
        missing = set(self.params) - values.keys()
        if missing:
            raise ValueError(f"subject {self.template!r} needs {sorted(missing)}")
        for name in self.params:
            value = str(values[name])
            if not _TOKEN.match(value):
                raise ValueError(f"{name}={value!r} is not a valid subject token")
        return self.template.format(**{name: str(values[name]) for name in self.params})

    def bind(self, **values: str) -> Subject:
        """A narrower template with some placeholders fixed: `IDENTITY.bind(op="membership")`."""
        for name, value in values.items():
            if name not in self.params:
                raise ValueError(f"subject {self.template!r} has no {{{name}}}")
            if not _TOKEN.match(str(value)):
                raise ValueError(f"{name}={value!r} is not a valid subject token")
        kept = {name: "{" + name + "}" for name in self.params if name not in values}
        return Subject(self.template.format(**{**kept, **{k: str(v) for k, v in values.items()}}))

    @property
    def wildcard(self) -> str:
        return self.template.format(**{name: "*" for name in self.params})

    def __repr__(self) -> str:
        return f"Subject({self.template!r})"


class Model(BaseModel):
    """Any structure on the wire: camelCase aliases, snake_case in Python, no unknown fields."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        serialize_by_alias=True,
        validate_by_name=True,
        validate_by_alias=True,
    )

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True, exclude_none=False).encode()


class Row(BaseModel):
    """A database row as the seed sends it: snake_case column names on the wire too."""

    model_config = ConfigDict(extra="forbid")


class Message(Model):
    """A message with a `type` discriminator. Subclasses declare `type: Literal[...]`."""

    type: str
    subject: ClassVar[Subject | None] = None

    def address(self, **extra: str) -> str:
        """The concrete subject: placeholders come from `extra`, then from this message's fields."""
        if self.subject is None:
            raise TypeError(f"{type(self).__name__} is not sent on the bus")
        values: dict[str, Any] = {
            name: extra[name] if name in extra else getattr(self, name) for name in self.subject.params
        }
        return self.subject.fill(**values)

    @classmethod
    def type_name(cls) -> str:
        return cls.model_fields["type"].default


ReplyT = TypeVar("ReplyT", bound=Message)


class Request(Message, Generic[ReplyT]):
    """A message answered on the bus by exactly one reply type (or an `ErrorReply`).

    `class GetMembership(Request[Membership])` declares the reply type once; it is
    read back from the generic parameter into `reply`.
    """

    reply: ClassVar[type[Message]]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for base in cls.__mro__:
            args = getattr(base, "__pydantic_generic_metadata__", {}).get("args", ())
            if args and isinstance(args[0], type) and issubclass(args[0], Message):
                cls.reply = args[0]
                return
