"""The trace id and acting user of the work in progress, carried in bus headers between services."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TraceContext:
    trace_id: str
    actor: str | None = None


_current: ContextVar[TraceContext | None] = ContextVar("makefx_trace", default=None)


def new_trace_id() -> str:
    return uuid.uuid4().hex


def current_trace() -> TraceContext:
    """The trace of the work in progress; a fresh one when nothing set it."""
    return _current.get() or TraceContext(trace_id=new_trace_id())


@contextlib.contextmanager
def trace_scope(trace_id: str | None = None, actor: str | None = None) -> Iterator[TraceContext]:
    """Run a block of work under a trace id (a new one when None) and an acting user."""
    context = TraceContext(trace_id=trace_id or new_trace_id(), actor=actor)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def bind_actor(actor: str) -> None:
    """Name the acting user of the work in progress (once its credentials are checked)."""
    _current.set(TraceContext(trace_id=current_trace().trace_id, actor=actor))


def trace_id_from_headers(trace_id: str | None, traceparent: str | None) -> str | None:
    """A caller's trace id: `X-Trace-Id`, else the trace-id of a W3C `traceparent`."""
    if trace_id and len(trace_id) <= 64 and trace_id.isprintable():
        return trace_id
    parts = (traceparent or "").split("-")
    if len(parts) == 4 and len(parts[1]) == 32:
        return parts[1]
    return None
