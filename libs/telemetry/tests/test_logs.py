"""Logs are JSON lines with the trace, and never carry a token."""

import io
import json
import logging

from makefx_telemetry import configure_logging, trace_scope


def capture(service: str) -> io.StringIO:
    configure_logging(service, "INFO", "json")
    stream = io.StringIO()
    logging.getLogger().handlers[0].setStream(stream)
    return stream


def test_a_log_line_is_json_with_service_trace_and_extra_fields():
    stream = capture("gateway")
    with trace_scope("trace-1", actor="usr_1"):
        logging.getLogger("makefx.test").info("space %s opened", "spc_1", extra={"space_id": "spc_1"})
    entry = json.loads(stream.getvalue())
    assert entry["msg"] == "space spc_1 opened"
    assert (entry["service"], entry["trace_id"], entry["actor"], entry["space_id"]) == (
        "gateway",
        "trace-1",
        "usr_1",
        "spc_1",
    )


def test_tokens_in_urls_are_redacted_from_every_logger():
    stream = capture("gateway")
    logging.getLogger("uvicorn.error").info(
        '%s - "WebSocket %s" [accepted]', "127.0.0.1", "/api/spaces/spc_1/ws?access_token=eyJhbGciOi.abc.def&x=1"
    )
    line = stream.getvalue()
    assert "eyJhbGciOi" not in line
    assert "access_token=[redacted]&x=1" in line


def test_binding_the_actor_keeps_the_trace_id():
    from makefx_telemetry import bind_actor, current_trace

    with trace_scope("trace-9"):
        bind_actor("usr_7")
        assert (current_trace().trace_id, current_trace().actor) == ("trace-9", "usr_7")
