"""Which messages travel on which subject, and which stream captures it."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field

from makefx_contracts.base import Message, Request, Subject
from makefx_protogen.catalog import Catalog, Stream

_TOKEN = "[A-Za-z0-9_-]+"


@dataclass(frozen=True)
class Channel:
    """A subject constant of subjects.py with the messages sent on it."""

    name: str
    subject: Subject
    messages: tuple[type[Message], ...] = ()
    stream: Stream | None = None
    # Parameter -> the values messages bind it to, when every message on the channel binds it.
    bound: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def requests(self) -> tuple[type[Request], ...]:
        return tuple(m for m in self.messages if issubclass(m, Request))

    @property
    def delivery(self) -> str:
        if self.stream is not None:
            return f"JetStream {self.stream.name}"
        return "request/reply" if self.requests else "core NATS"


def binding(channel: Subject, subject: Subject) -> dict[str, str | None] | None:
    """How `subject` narrows `channel`: each parameter's bound token (None when left open).

    None when `subject` is neither `channel`'s template nor a `bind()` of it.
    """
    pattern = []
    seen: set[str] = set()
    for literal, name, _, _ in string.Formatter().parse(channel.template):
        pattern.append(re.escape(literal))
        if name is None:
            continue
        if name in seen:
            pattern.append(f"(?P={name})")
        else:
            seen.add(name)
            pattern.append(f"(?P<{name}>{re.escape('{' + name + '}')}|{_TOKEN})")
    match = re.fullmatch("".join(pattern), subject.template)
    if match is None:
        return None
    return {name: None if value == "{" + name + "}" else value for name, value in match.groupdict().items()}


def covers(pattern: str, subject: str) -> bool:
    """Whether the NATS subject pattern `pattern` captures every subject matching `subject`."""
    wanted = pattern.split(".")
    tokens = subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > index
        if index >= len(tokens) or (token != "*" and token != tokens[index]):
            return False
    return len(wanted) == len(tokens)


def channels(catalog: Catalog) -> list[Channel]:
    """Every subject of the catalog with its messages, in declaration order.

    Raises ValueError for a message whose subject is not declared in subjects.py.
    """
    placed: set[type[Message]] = set()
    result = []
    for name, subject in catalog.subjects.items():
        messages = []
        bindings = []
        for message in catalog.messages:
            if message.subject is None:
                continue
            bound = binding(subject, message.subject)
            if bound is not None:
                messages.append(message)
                bindings.append(bound)
                placed.add(message)
        bound_values = {
            param: tuple(sorted({b[param] for b in bindings if b[param] is not None}))
            for param in subject.params
            if bindings and all(b[param] is not None for b in bindings)
        }
        stream = next((s for s in catalog.streams if any(covers(p, subject.wildcard) for p in s.subjects)), None)
        result.append(Channel(name, subject, tuple(messages), stream, bound_values))
    strays = [m for m in catalog.messages if m.subject is not None and m not in placed]
    if strays:
        listed = ", ".join(f"{m.__name__} ({m.subject.template})" for m in strays if m.subject is not None)
        raise ValueError(f"subjects not declared in subjects.py: {listed}")
    return result
