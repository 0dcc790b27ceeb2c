"""Apps and fakes served for real in the test's event loop."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from makefx_testing.app_server import AppServer
from makefx_testing.fakes import ScriptedFake, serving


@dataclass
class Echo(ScriptedFake[str, str]):
    """A provider that answers with the next scripted word and records the paths it was asked."""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/{path:path}")
        async def anything(path: str, request: Request) -> JSONResponse:
            self.requests.append(request.url.path)
            return JSONResponse({"word": self.next_reply()})

        return app


async def test_a_served_fake_answers_from_its_script_the_last_reply_repeating_and_records_each_request():
    async with serving(Echo()) as fake, httpx.AsyncClient(base_url=fake.url) as client:
        fake.script("one", "two")
        words = [(await client.get(f"/ask/{n}")).json()["word"] for n in range(3)]

    assert words == ["one", "two", "two"]
    assert fake.requests == ["/ask/0", "/ask/1", "/ask/2"]


async def test_an_app_server_runs_the_lifespan_and_stops_once_however_often_it_is_told():
    events: list[str] = []
    app = FastAPI(on_startup=[lambda: events.append("started")], on_shutdown=[lambda: events.append("stopped")])
    server = AppServer(app, lifespan="on")

    url = await server.start()
    async with httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/nowhere")).status_code == 404
    await server.stop()
    await server.stop()

    assert events == ["started", "stopped"]
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(base_url=url) as client:
            await client.get("/nowhere")


async def test_an_app_that_fails_to_start_fails_the_start():
    async def broken(app: FastAPI):
        raise RuntimeError("no database")
        yield

    server = AppServer(FastAPI(lifespan=broken), lifespan="on")

    with pytest.raises(RuntimeError, match="the app failed to start"):
        await server.start()
    await server.stop()  # nothing left to stop
