"""Make Effects telemetry: structured logs, the trace context carried across the bus, metrics."""

from makefx_telemetry.logs import configure_logging
from makefx_telemetry.trace import TraceContext, current_trace, new_trace_id, trace_scope

__all__ = ["TraceContext", "configure_logging", "current_trace", "new_trace_id", "trace_scope"]
