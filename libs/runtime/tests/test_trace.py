"""Every HTTP request runs under a trace id: the caller's, or a new one, answered in X-Trace-Id."""

import httpx
from fastapi import APIRouter

from makefx_bus import Bus
from makefx_runtime import Service, build_app
from makefx_settings import ServiceSettings
from makefx_telemetry import current_trace


def app_with_trace_route():
    router = APIRouter()

    @router.get("/trace")
    async def trace() -> dict[str, str | None]:
        return {"traceId": current_trace().trace_id, "actor": current_trace().actor}

    settings = ServiceSettings(service_name="traced")
    return build_app(Service(settings=settings, bus=Bus(settings), title="t", routers=[router]))


async def test_a_callers_trace_id_is_used_and_echoed():
    transport = httpx.ASGITransport(app=app_with_trace_route())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        given = await client.get("/trace", headers={"X-Trace-Id": "trace-from-caller"})
        parent = await client.get(
            "/trace", headers={"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
        )
        fresh = await client.get("/trace")
    assert given.json()["traceId"] == given.headers["x-trace-id"] == "trace-from-caller"
    assert parent.json()["traceId"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert len(fresh.headers["x-trace-id"]) == 32 and fresh.json()["traceId"] == fresh.headers["x-trace-id"]
