"""An ASGI app served for real (uvicorn, real HTTP) in the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from types import TracebackType
from typing import Any, Literal, Self

import uvicorn

_START_TIMEOUT_SECONDS = 20


class AppServer:
    """Serves `app` on a free port of 127.0.0.1, or on `listen_on`, a socket the test bound (not yet listening).

    `lifespan="on"` runs the app's startup and shutdown, as a service's own process would;
    a fake provider has none. `stop()` may be called early; later calls do nothing.
    """

    def __init__(
        self, app: Any, *, lifespan: Literal["on", "off"] = "off", listen_on: socket.socket | None = None
    ) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan=lifespan))
        self.listen_on = listen_on
        self.url = ""
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> str:
        """Serve until `stop()`; the URL, once the server accepts connections."""
        task = self._task = asyncio.create_task(self._serve())
        async with asyncio.timeout(_START_TIMEOUT_SECONDS):
            while not self.server.started:
                if task.done():
                    self._task = None
                    task.result()
                    raise RuntimeError("the server stopped during startup")
                await asyncio.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def _serve(self) -> None:
        try:
            await self.server.serve(sockets=[self.listen_on] if self.listen_on is not None else None)
        except SystemExit as exited:
            # uvicorn exits the process when the app's startup fails; here it is this server that failed.
            raise RuntimeError(f"the app failed to start (uvicorn exit code {exited.code})") from None

    async def stop(self) -> None:
        if self._task is not None:
            self.server.should_exit = True
            task, self._task = self._task, None
            await task

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.stop()
