"""What the contracts declare, gathered once: messages, HTTP bodies, subjects, streams, buckets, unions, error codes."""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import pkgutil
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any, Literal, Union

from makefx_bus.streams import bucket_specs, stream_specs
from makefx_contracts.base import Message, Model, Request, Subject
from makefx_contracts.errors import ErrorCode, FxError
from makefx_settings import ServiceSettings


@dataclass(frozen=True)
class Stream:
    """A JetStream stream: its name and the subject patterns it captures."""

    name: str
    subjects: tuple[str, ...] = ()
    retention: str = ""
    discard: str = ""
    description: str = ""


@dataclass(frozen=True)
class Bucket:
    """A JetStream key-value bucket."""

    name: str
    storage: str = ""
    description: str = ""


@dataclass(frozen=True)
class ErrorCodeDoc:
    """One error code and the exception that carries it."""

    code: str
    exception: str = ""
    description: str = ""


@dataclass(frozen=True)
class Catalog:
    """Everything the generator renders. `discover()` builds it from makefx_contracts; tests build their own."""

    messages: tuple[type[Message], ...]
    subjects: Mapping[str, Subject] = field(default_factory=dict)
    streams: tuple[Stream, ...] = ()
    buckets: tuple[Bucket, ...] = ()
    unions: Mapping[str, tuple[type[Message], ...]] = field(default_factory=dict)
    error_codes: tuple[ErrorCodeDoc, ...] = ()
    version: str = "0.0.0"
    # The gateway's HTTP JSON bodies: models without a `type`, known by their route.
    bodies: tuple[type[Model], ...] = ()

    # Each message's file name and AsyncAPI id: its `type` with `:` as `.`, plus `.ClassName`
    # when several messages share the type (the WebSocket's `presence:update` goes both ways).
    ids: Mapping[type[Message], str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "messages", tuple(sorted(self.messages, key=_order)))
        object.__setattr__(self, "bodies", tuple(sorted(self.bodies, key=lambda body: body.__name__)))
        by_type: dict[str, list[type[Message]]] = {}
        for message in self.messages:
            name = type_literal(message)
            if name is None:
                raise ValueError(f"{_qualname(message)} has no single `type` Literal default: it is not a message")
            by_type.setdefault(name, []).append(message)
        by_class_name: dict[str, type[Model]] = {}
        for message in self.messages:
            other = by_class_name.setdefault(message.__name__, message)
            if other is not message:
                raise ValueError(
                    f"two messages are named {message.__name__}: {_qualname(other)} and {_qualname(message)}; "
                    "rename one (the frontend imports messages by class name)"
                )
            reply = getattr(message, "reply", None) if issubclass(message, Request) else None
            if reply is not None and reply not in self.messages:
                raise ValueError(f"{_qualname(message)} replies with {_qualname(reply)}, which is not in the catalog")
        for body in self.bodies:
            other = by_class_name.setdefault(body.__name__, body)
            if other is not body:
                raise ValueError(
                    f"two contracts are named {body.__name__}: {_qualname(other)} and {_qualname(body)}; "
                    "rename one (the frontend imports every type by name)"
                )
        ids = {}
        for name, messages in by_type.items():
            for message in messages:
                stem = name.replace(":", ".")
                ids[message] = stem if len(messages) == 1 else f"{stem}.{message.__name__}"
        object.__setattr__(self, "ids", ids)


def type_literal(cls: type) -> str | None:
    """The message's `type` when it is a single string Literal with that default, else None."""
    fields = getattr(cls, "model_fields", {})
    type_field = fields.get("type")
    if type_field is None or typing.get_origin(type_field.annotation) is not Literal:
        return None
    args = typing.get_args(type_field.annotation)
    if len(args) != 1 or not isinstance(args[0], str) or type_field.default != args[0]:
        return None
    return args[0]


def is_concrete_message(cls: Any) -> bool:
    if not (isinstance(cls, type) and issubclass(cls, Message)) or inspect.isabstract(cls):
        return False
    generic = getattr(cls, "__pydantic_generic_metadata__", {})
    if generic.get("parameters") or generic.get("origin") is not None:
        return False
    return type_literal(cls) is not None


def contract_modules(package: str = "makefx_contracts") -> list[types.ModuleType]:
    """The package and every module under it, imported, in name order."""
    root = importlib.import_module(package)
    names = [info.name for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}.")]
    return [root, *(importlib.import_module(name) for name in sorted(names))]


def concrete_messages(modules: Iterable[types.ModuleType]) -> tuple[type[Message], ...]:
    """Every concrete message class defined (not merely imported) in `modules`, sorted by type."""
    found: dict[type[Message], None] = {}
    for module in modules:
        for value in vars(module).values():
            if is_concrete_message(value) and value.__module__ == module.__name__:
                found[value] = None
    return tuple(sorted(found, key=_order))


def http_bodies(module: types.ModuleType) -> tuple[type[Model], ...]:
    """Every model defined (not merely imported) in `module` that is not a message, by name."""
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Model)
        and not issubclass(value, Message)
        and value.__module__ == module.__name__
    ]
    return tuple(sorted(found, key=lambda body: body.__name__))


def subject_constants(module: types.ModuleType) -> dict[str, Subject]:
    """Every module-level `Subject` constant, in declaration order."""
    return {name: value for name, value in vars(module).items() if isinstance(value, Subject)}


def message_unions(modules: Iterable[types.ModuleType]) -> dict[str, tuple[type[Message], ...]]:
    """Module-level aliases such as `Mutation = Annotated[A | B, Field(discriminator="type")]`."""
    unions: dict[str, tuple[type[Message], ...]] = {}
    for module in modules:
        for name, value in vars(module).items():
            members = _union_members(value)
            if name.startswith("_") or not members or not all(is_concrete_message(m) for m in members):
                continue
            if name in unions and unions[name] != members:
                raise ValueError(f"two unions are named {name} with different members (one is in {module.__name__})")
            unions[name] = members
    return dict(sorted(unions.items()))


def _union_members(value: Any) -> tuple[type, ...]:
    if typing.get_origin(value) is Annotated:
        value = typing.get_args(value)[0]
    if typing.get_origin(value) not in (Union, types.UnionType):
        return ()
    return typing.get_args(value)


def error_code_docs(codes: type[Enum] = ErrorCode, base: type[FxError] = FxError) -> tuple[ErrorCodeDoc, ...]:
    """Each code with the public exception that carries it (the nearest subclass of `base`)."""
    raised_as: dict[str, type[FxError]] = {}
    pending = list(base.__subclasses__())
    while pending:
        cls = pending.pop(0)
        pending.extend(cls.__subclasses__())
        if not cls.__name__.startswith("_"):
            raised_as.setdefault(str(cls.code.value), cls)
    docs = []
    for code in codes:
        cls = raised_as.get(str(code.value))
        description = inspect.cleandoc(cls.__doc__) if cls is not None and cls.__doc__ else ""
        docs.append(ErrorCodeDoc(str(code.value), cls.__name__ if cls else "", description))
    return tuple(docs)


def bus_resources(subjects_module: types.ModuleType) -> tuple[tuple[Stream, ...], tuple[Bucket, ...]]:
    """Streams and buckets named in subjects.py, with what makefx_bus provisions for them.

    The bus's specs are read with default settings, and only their settings-independent
    parts are kept, so the generated files never depend on the environment of the machine
    that runs `make proto`.
    """
    defaults = ServiceSettings.model_construct()
    streams = [
        Stream(
            name=spec.name,
            subjects=tuple(spec.subjects),
            retention=str(spec.retention.value),
            discard=str(spec.discard.value),
            description=spec.why,
        )
        for spec in stream_specs(defaults)
    ]
    buckets = [
        Bucket(name=spec.name, storage=str(spec.storage.value), description=spec.why) for spec in bucket_specs(defaults)
    ]
    declared = vars(subjects_module)
    provisioned = {s.name for s in streams}
    streams += [
        Stream(name=value)
        for name, value in declared.items()
        if name.startswith("STREAM_") and isinstance(value, str) and value not in provisioned
    ]
    provisioned = {b.name for b in buckets}
    buckets += [
        Bucket(name=value)
        for name, value in declared.items()
        if name.startswith("KV_") and isinstance(value, str) and value not in provisioned
    ]
    return tuple(streams), tuple(buckets)


def discover(package: str = "makefx_contracts") -> Catalog:
    """The catalog of the installed contracts package."""
    modules = contract_modules(package)
    subjects_module = importlib.import_module(f"{package}.subjects")
    streams, buckets = bus_resources(subjects_module)
    http = next((module for module in modules if module.__name__ == f"{package}.http"), None)
    try:
        version = importlib.metadata.version(package.replace("_", "-"))
    except importlib.metadata.PackageNotFoundError:
        version = "0.0.0"
    return Catalog(
        messages=concrete_messages(modules),
        subjects=subject_constants(subjects_module),
        streams=streams,
        buckets=buckets,
        unions=message_unions(modules),
        error_codes=error_code_docs(),
        version=version,
        bodies=http_bodies(http) if http is not None else (),
    )


def _order(cls: type[Message]) -> tuple[str, str]:
    return type_literal(cls) or "", cls.__name__


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
