"""A worker that stopped pulling jobs fails its liveness probe (`/healthz`), so it is restarted."""

from __future__ import annotations

import httpx

from makefx_generation.app import bootstrap
from makefx_generation.settings import GenerationSettings
from makefx_testing.app_server import AppServer
from makefx_testing.services import TEST_SETTINGS


async def test_a_worker_is_alive_and_ready_while_it_consumes_and_neither_once_it_stopped(
    nats_server, tmp_path, monkeypatch
):
    for name, value in TEST_SETTINGS.items():
        monkeypatch.setenv(name, value)
    app = bootstrap(GenerationSettings(nats_url=nats_server.url, data_dir=tmp_path))
    async with AppServer(app, lifespan="on") as server, httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200
        await app.state.service.extra["worker"].stop()
        alive, ready = await client.get("/healthz"), await client.get("/readyz")
    for answer in (alive, ready):
        assert answer.status_code == 503, answer.text
        assert "the generation job consumer is not consuming GEN_JOBS" in answer.json()["problems"]
