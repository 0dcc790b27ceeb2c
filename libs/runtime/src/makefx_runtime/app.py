"""One FastAPI app per process: /healthz, /readyz, /metrics, and a lifespan that runs the bus.

Every service, the gateway included, is built by `build_app` so that health,
readiness, metrics and shutdown behave the same everywhere.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import uvicorn
from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from makefx_bus import Bus
from makefx_settings import ServiceSettings
from makefx_telemetry import configure_logging, trace_id_from_headers, trace_scope
from makefx_telemetry.metrics import CONTENT_TYPE

log = logging.getLogger(__name__)

ReadinessCheck = Callable[[], Awaitable[str | None]]
"""Returns None when ready, or a sentence saying what is not."""

Hook = Callable[[], Awaitable[None]]


@dataclass
class Service:
    """What a service plugs into the shell: its bus, routes, start/stop work and readiness checks."""

    settings: ServiceSettings
    bus: Bus
    title: str
    routers: Sequence[APIRouter] = ()
    on_start: Sequence[Hook] = ()
    on_stop: Sequence[Hook] = ()
    checks: Sequence[ReadinessCheck] = ()
    liveness: Sequence[ReadinessCheck] = ()
    """Checks only a restart cures (a work loop that ended): they fail `/healthz`, the liveness probe, and
    `/readyz` too."""
    openapi_url: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


def build_app(service: Service) -> FastAPI:
    bus = service.bus

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await bus.start()
        for hook in service.on_start:
            await hook()
        log.info("%s ready", service.settings.service_name)
        try:
            yield
        finally:
            for hook in reversed(service.on_stop):
                await hook()
            await bus.stop()
            log.info("%s stopped", service.settings.service_name)

    app = FastAPI(
        title=service.title,
        lifespan=lifespan,
        openapi_url=service.openapi_url,
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    app.add_middleware(_HttpMetrics, service=service)
    app.add_middleware(_HttpTrace)
    app.include_router(_health_router(service))
    for router in service.routers:
        app.include_router(router)
    return app


def _health_router(service: Service) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    bus = service.bus

    @router.get("/healthz")
    async def healthz() -> JSONResponse:
        problems = [problem for check in service.liveness if (problem := await check())]
        name = service.settings.service_name
        body: dict[str, object] = {"status": "failing" if problems else "ok", "service": name}
        if problems:
            body["problems"] = problems
        return JSONResponse(body, status_code=503 if problems else 200)

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        problems: list[str] = []
        if not bus.is_connected:
            problems.append("bus is not connected")
        else:
            missing = await bus.missing_resources()
            if missing:
                problems.append(f"missing streams or buckets: {', '.join(missing)}")
            for check in [*service.checks, *service.liveness]:
                problem = await check()
                if problem:
                    problems.append(problem)
        status = 503 if problems else 200
        return JSONResponse(
            {
                "status": "ready" if not problems else "not ready",
                "service": service.settings.service_name,
                "problems": problems,
            },
            status_code=status,
        )

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(bus.metrics.render(), media_type=CONTENT_TYPE)

    return router


class _HttpTrace:
    """Every HTTP request runs under a trace id — the caller's (`X-Trace-Id`, `traceparent`) or a new one —
    carried into bus headers and logs, and answered in `X-Trace-Id`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        given = trace_id_from_headers(headers.get("x-trace-id"), headers.get("traceparent"))
        with trace_scope(given) as trace:

            async def send_with_trace(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), (b"x-trace-id", trace.trace_id.encode())]
                await send(message)

            await self.app(scope, receive, send_with_trace)


class _HttpMetrics:
    """Counts and times HTTP requests by route template (never by raw path: ids would explode labels)."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app = app
        self.metrics = service.bus.metrics
        self.name = service.settings.service_name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self.metrics.http_requests.labels(self.name, method, route, str(status)).inc()
            self.metrics.http_latency.labels(self.name, method, route).observe(time.perf_counter() - started)


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run one service until SIGINT/SIGTERM, logging as JSON."""
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    # Everything built so far lives as long as the process: keep the collector off it, and
    # collect the young generation less often. Measured on a gateway holding 1,000 sockets,
    # default thresholds caused full collections of 130-315 ms (tests/bench/bench_space).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=10,
        ws_max_size=1024 * 1024,
    )
    uvicorn.Server(config).run()
