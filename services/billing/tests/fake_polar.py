"""A fake Polar: a real HTTP server speaking `POST /v1/events/ingest` as Polar does.

Request `{"events": [{name, external_id, external_customer_id | customer_id, timestamp?,
metadata?}, ...]}` with `Authorization: Bearer <token>`; answer `{"inserted": n,
"duplicates": m}` (polar-sdk's `EventsIngestResponse`), deduplicating by `external_id`
as Polar does. It can be told to fail the next requests with a status (500, 429 with
`Retry-After`), or to commit a batch and then never answer — the lost response of a crash
between Polar storing events and billing marking them. It keeps the external ids of every
batch it was sent (`batches`, `received`), answered or not, so a test sees resends.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import Counter, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from makefx_testing.app_server import AppServer


@dataclass
class _Fault:
    status: int | None = None
    retry_after: int | None = None
    commit_then_hang: bool = False


@dataclass
class FakePolar:
    token: str
    url: str = ""
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    duplicates: int = 0
    requests: int = 0
    answered: int = 0
    statuses: list[int] = field(default_factory=list)
    unauthorized: int = 0
    batches: list[list[str]] = field(default_factory=list)
    received: Counter[str] = field(default_factory=Counter)
    _faults: deque[_Fault] = field(default_factory=deque)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _hung: asyncio.Event = field(default_factory=asyncio.Event)

    # -- scripting -------------------------------------------------------------------

    def fail_next(self, times: int, status: int = 500, retry_after: int | None = None) -> None:
        self._faults.extend(_Fault(status=status, retry_after=retry_after) for _ in range(times))

    def commit_then_hang_next(self) -> None:
        """Store the next batch, then never answer (until `release`)."""
        self._faults.append(_Fault(commit_then_hang=True))

    def release(self) -> None:
        self._hung.set()

    @property
    def distinct(self) -> int:
        return len(self.events)

    async def wait_until(self, predicate: Any, timeout: float = 30) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: predicate(self))

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- the HTTP side -------------------------------------------------------------------

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/events/ingest")
        async def ingest(request: Request) -> JSONResponse:
            self.requests += 1
            try:
                if request.headers.get("authorization") != f"Bearer {self.token}":
                    self.unauthorized += 1
                    return self._answer(401, {"error": "invalid_token", "detail": "Unauthorized"})
                body = await request.json()
                sent = _external_ids(body)
                self.batches.append(sent)
                self.received.update(sent)
                fault = self._faults.popleft() if self._faults else _Fault()
                if fault.status is not None:
                    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                    return self._answer(fault.status, {"detail": "fake failure"}, headers)
                problems = _validate(body)
                if problems:
                    return self._answer(422, {"detail": problems})
                inserted = duplicates = 0
                for event in body["events"]:
                    if event["external_id"] in self.events:
                        duplicates += 1
                    else:
                        self.events[event["external_id"]] = event
                        inserted += 1
                self.duplicates += duplicates
                if fault.commit_then_hang:
                    await self._notify()
                    await self._hung.wait()
                return self._answer(200, {"inserted": inserted, "duplicates": duplicates})
            finally:
                await self._notify()

        return app

    def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> JSONResponse:
        self.statuses.append(status)
        self.answered += 1
        return JSONResponse(body, status_code=status, headers=headers)


def _external_ids(body: Any) -> list[str]:
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list):
        return []
    return [event["external_id"] for event in events if isinstance(event, dict) and "external_id" in event]


def _validate(body: Any) -> list[dict[str, Any]]:
    """The parts of Polar's validation billing relies on, with FastAPI-style `detail` entries."""
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        return [{"loc": ["body", "events"], "msg": "Field required", "type": "missing"}]
    problems = []
    for index, event in enumerate(body["events"]):
        for name in ("name", "external_id"):
            if not isinstance(event.get(name), str) or not event[name]:
                problems.append({"loc": ["body", "events", index, name], "msg": "Field required", "type": "missing"})
        if not isinstance(event.get("external_customer_id"), str) and not isinstance(event.get("customer_id"), str):
            problems.append(
                {"loc": ["body", "events", index, "external_customer_id"], "msg": "Field required", "type": "missing"}
            )
        metadata = event.get("metadata", {})
        if not isinstance(metadata, dict) or len(metadata) > 50 or any(len(key) > 40 for key in metadata):
            problems.append({"loc": ["body", "events", index, "metadata"], "msg": "invalid", "type": "value_error"})
    return problems


@contextlib.asynccontextmanager
async def running_fake_polar(token: str, listen_on: socket.socket | None = None) -> AsyncIterator[FakePolar]:
    """A fake Polar on a free port of 127.0.0.1, in this event loop; or on `listen_on`, a socket bound
    (not yet listening) by the test, so Polar's address refuses connections until the fake starts."""
    fake = FakePolar(token=token)
    server = AppServer(fake.app(), listen_on=listen_on)
    fake.url = await server.start()
    try:
        yield fake
    finally:
        fake.release()
        await server.stop()
