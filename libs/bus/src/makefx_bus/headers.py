"""Header names on the bus; readable with `nats sub --headers`."""

from __future__ import annotations

from makefx_telemetry import TraceContext, current_trace

TRACE_HEADER = "Fx-Trace-Id"
ACTOR_HEADER = "Fx-Actor"
MSG_ID_HEADER = "Nats-Msg-Id"


def trace_headers(trace: TraceContext | None = None) -> dict[str, str]:
    trace = trace or current_trace()
    headers = {TRACE_HEADER: trace.trace_id}
    if trace.actor:
        headers[ACTOR_HEADER] = trace.actor
    return headers


def trace_from_headers(headers: dict[str, str] | None) -> tuple[str | None, str | None]:
    headers = headers or {}
    return headers.get(TRACE_HEADER), headers.get(ACTOR_HEADER)
