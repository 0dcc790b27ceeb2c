"""Make Effects telemetry: structured logs, the trace context carried across the bus, metrics."""

from makefx_telemetry.logs import configure_logging
from makefx_telemetry.trace import (
    TraceContext,
    bind_actor,
    current_trace,
    new_trace_id,
    trace_id_from_headers,
    trace_scope,
)

__all__ = [
    "TraceContext",
    "bind_actor",
    "configure_logging",
    "current_trace",
    "new_trace_id",
    "trace_id_from_headers",
    "trace_scope",
]
