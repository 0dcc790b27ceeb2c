"""Space benchmarks (issue 4): mutation latency, fan-out, sync and resume, committed mutations per second.

Everything is real: nats-server from the virtualenv, space-state and the gateway as their
own processes started as `makefx dev` starts them, clients over loopback. Each number is
printed beside a floor measured in the same run by a plain stack in its own process
(`python -m tests.bench.bench_space floor <port> <nats url>`): a FastAPI WebSocket app on
uvicorn (the gateway's server, same defaults, permessage-deflate included) and a raw
nats-py echo responder.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import resource
import secrets
import signal
import socket
import sqlite3
import struct
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nats
import uvicorn
import websockets
from fastapi import FastAPI, WebSocket
from starlette.websockets import WebSocketDisconnect
from websockets.asyncio.client import ClientConnection
from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from makefx_bus import Bus
from makefx_bus.codec import encode
from makefx_cli.children import die_with_parent
from makefx_cli.nats_server import NatsServer, free_port
from makefx_contracts.identity import Role
from makefx_contracts.socket import AssetCreate, AssetUpdate, SyncRequest
from makefx_contracts.space import Actor, AssetChanges, CreateAsset, Position, UpdateAsset
from makefx_contracts.subjects import STATE_COMMANDS
from makefx_settings import ServiceSettings
from makefx_space_state.store import schema
from makefx_space_state.store.rows import ASSET_COLUMNS, LINEAGE_COLUMNS, VARIANT_COLUMNS
from makefx_space_state.store.sqlite import connect, space_path
from tests.bench.report import Latency, Table

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
PASSWORD = "correct horse battery staple"
REPLICA = "state-0"
FLOOR_ECHO = "fx.bench.floor.echo"

# (a) one mutation at a time
MUTATION_WARMUP = 100
MUTATION_SAMPLES = 1000
# (b) one mutation fanned out
FANOUT_SOCKETS = 1000
FANOUT_BATCH = 50
FANOUT_WARMUP = 3
FANOUT_MUTATIONS = 20
# (c) a large space
BIG_ASSETS = 10_000
VARIANTS_PER_ASSET = 3  # 30,000 variants; the 2nd and 3rd refine the 1st: 20,000 lineage rows
SYNC_WARMUP = 2
SYNC_RUNS = 10
SYNC_RUNS_PLAIN = 5
RESUME_EVENTS = 100
RESUME_WARMUP = 2
RESUME_RUNS = 10
# (d) committed mutations per second
THROUGHPUT_SPACES = 100
THROUGHPUT_WORKERS = 64
THROUGHPUT_SECONDS = 5.0

# Linux <asm-generic/socket.h>: SO_TIMESTAMPNS, and its control message SCM_TIMESTAMPNS (same value),
# a struct timespec of CLOCK_REALTIME stamped when the packet reached the socket.
_SO_TIMESTAMPNS = 35
_TIMESPEC = struct.Struct("qq")
_ANCILLARY = socket.CMSG_SPACE(_TIMESPEC.size)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def machine_load() -> str:
    """Other work on the machine skews every number here: say how busy it was."""
    return f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (1 min) when this part ended"


# -- processes -----------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class CpuMeter:
    """CPU used by each named process between `start()` and `stop()`, as a percentage of one core."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self._before: dict[str, float] = {}
        self._started = 0.0
        self.percent: dict[str, float] = {}

    def start(self) -> None:
        self._before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self._started = time.perf_counter()

    def stop(self) -> str:
        elapsed = time.perf_counter() - self._started
        self.percent = {
            name: (cpu_seconds(pid) - self._before[name]) / elapsed * 100 for name, pid in self.pids.items()
        }
        return ", ".join(f"{name} {percent:.0f}%" for name, percent in self.percent.items())


@dataclass
class Child:
    """A service process of ours (or the floor's), logging to a file kept for failures."""

    name: str
    process: asyncio.subprocess.Process
    port: int
    log: Path

    @classmethod
    async def start(cls, name: str, args: Sequence[str], env: dict[str, str], port: int, log: Path) -> Child:
        with log.open("ab") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                *args,
                env=env,
                cwd=ROOT,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        return cls(name, process, port, log)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    async def wait_ready(self, timeout: float = 60) -> None:
        async with httpx.AsyncClient(timeout=2) as client, asyncio.timeout(timeout):
            while True:
                if self.process.returncode is not None:
                    raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.05)

    async def stop(self, timeout: float = 30) -> None:
        if self.process.returncode is None:
            self.process.terminate()
        try:
            async with asyncio.timeout(timeout):
                await self.process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            await self.process.wait()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


async def settle(pids: Iterable[int], *, window: float = 0.2, idle_share: float = 0.03, limit: float = 120) -> float:
    """Wait until the processes are idle (all together under `idle_share` of a core over `window`)."""
    pids = list(pids)
    started = time.perf_counter()
    async with asyncio.timeout(limit):
        while True:
            before = sum(cpu_seconds(pid) for pid in pids)
            await asyncio.sleep(window)
            if sum(cpu_seconds(pid) for pid in pids) - before < window * idle_share:
                return time.perf_counter() - started


def raise_file_limit(wanted: int) -> None:
    """Enough descriptors for thousands of sockets here and in the children (which inherit the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


# -- clients -------------------------------------------------------------------------------


class SpaceSocket:
    """A `websockets` client on a socket (ours or the floor's): frames answer futures keyed by what they are.

    Every frame is parsed as it arrives (as a browser would), then resolves ("ack", requestId),
    ("event", requestId), ("seq", seq) or ("sync",) with the time it was parsed.
    """

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._waiting: dict[tuple[Any, ...], asyncio.Future[tuple[float, dict[str, Any]]]] = {}
        self.last_frame_chars = 0
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, *, compression: str | None = "deflate") -> SpaceSocket:
        connection = await websockets.connect(url, max_size=None, compression=compression, open_timeout=30)
        return cls(connection)

    def expect(self, *key: Any) -> asyncio.Future[tuple[float, dict[str, Any]]]:
        future = self._waiting[key] = asyncio.get_running_loop().create_future()
        return future

    async def send(self, frame: str | bytes) -> None:
        await self.connection.send(frame.decode() if isinstance(frame, bytes) else frame)

    async def close(self) -> None:
        await self.connection.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    async def _read(self) -> None:
        try:
            async for frame in self.connection:
                body = json.loads(frame)
                parsed = time.perf_counter()
                kind = body.get("type")
                if kind == "ack":
                    self._resolve(("ack", body.get("requestId")), parsed, body)
                elif kind == "error":
                    self._fail(("ack", body.get("requestId")), RuntimeError(f"refused: {body}"))
                elif kind == "sync:state":
                    self.last_frame_chars = len(frame)
                    self._resolve(("sync",), parsed, body)
                elif kind != "presence:update":
                    self._resolve(("event", body.get("requestId")), parsed, body)
                    self._resolve(("seq", body.get("seq")), parsed, body)
        except websockets.ConnectionClosed as closed:
            for key in list(self._waiting):
                self._fail(key, closed)

    def _resolve(self, key: tuple[Any, ...], at: float, body: dict[str, Any]) -> None:
        future = self._waiting.pop(key, None)
        if future is not None and not future.done():
            future.set_result((at, body))

    def _fail(self, key: tuple[Any, ...], error: Exception) -> None:
        future = self._waiting.pop(key, None)
        if future is not None and not future.done():
            future.set_exception(error)


class Arrivals:
    """Frames carrying a `seq`, received across many sockets: when each reached the socket and was parsed."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.by_seq: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self._waiters: dict[int, asyncio.Future[None]] = {}

    def record(self, seq: int, arrived_ns: int, parsed_ns: int) -> None:
        got = self.by_seq[seq]
        got.append((arrived_ns, parsed_ns))
        if len(got) >= self.expected:
            waiter = self._waiters.pop(seq, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    async def wait(self, seq: int, timeout: float = 60) -> None:
        if len(self.by_seq[seq]) >= self.expected:
            return
        waiter = self._waiters[seq] = asyncio.get_running_loop().create_future()
        async with asyncio.timeout(timeout):
            await waiter


class Listener:
    """One of many passive sockets: websockets' sans-I/O protocol over a raw socket read with `recvmsg`.

    Each read carries the kernel's arrival time (SO_TIMESTAMPNS), so a delivery is timed
    when it reached this machine's socket, not when this one process got round to it among
    a thousand others; the time it was parsed is kept too. It offers permessage-deflate, as
    browsers do.
    """

    def __init__(self, arrivals: Arrivals) -> None:
        self.arrivals = arrivals
        self.synced = asyncio.Event()
        self._socket: socket.socket | None = None
        self._protocol: ClientProtocol | None = None

    async def open(self, port: int, path: str, first: bytes | None = None) -> None:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            await loop.sock_connect(sock, (HOST, port))
            protocol = ClientProtocol(
                parse_uri(f"ws://{HOST}:{port}{path}"), extensions=[ClientPerMessageDeflateFactory()], max_size=None
            )
            protocol.send_request(protocol.connect())
            await loop.sock_sendall(sock, b"".join(protocol.data_to_send()))
            while protocol.state is State.CONNECTING:
                data = await loop.sock_recv(sock, 1 << 16)
                if not data:
                    raise ConnectionError(f"{path}: closed during the handshake")
                protocol.receive_data(data)
                self._handle(protocol.events_received(), time.time_ns())
            if protocol.handshake_exc is not None:
                raise protocol.handshake_exc
        except BaseException:
            sock.close()
            raise
        self._socket, self._protocol = sock, protocol
        loop.add_reader(sock.fileno(), self._readable)
        if first is not None:
            protocol.send_text(first)
            await loop.sock_sendall(sock, b"".join(protocol.data_to_send()))
        else:
            self.synced.set()

    def close(self) -> None:
        sock, protocol, self._socket = self._socket, self._protocol, None
        if sock is None or protocol is None:
            return
        asyncio.get_running_loop().remove_reader(sock.fileno())
        with contextlib.suppress(OSError):
            protocol.send_close(1000)
            sock.send(b"".join(protocol.data_to_send()))
        sock.close()

    def _readable(self) -> None:
        sock, protocol = self._socket, self._protocol
        if sock is None or protocol is None:
            return
        try:
            data, ancillary, _flags, _address = sock.recvmsg(1 << 18, _ANCILLARY)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        arrived = time.time_ns()
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(value) >= _TIMESPEC.size:
                seconds, nanoseconds = _TIMESPEC.unpack_from(value)
                arrived = seconds * 1_000_000_000 + nanoseconds
        if not data:
            self.close()
            return
        protocol.receive_data(data)
        self._handle(protocol.events_received(), arrived)
        replies = b"".join(protocol.data_to_send())  # pongs
        if replies:
            with contextlib.suppress(OSError):
                sock.send(replies)

    def _handle(self, events: Iterable[object], arrived: int) -> None:
        for event in events:
            if not isinstance(event, Frame) or event.opcode is not Opcode.TEXT:
                continue
            data = event.data
            if b'"presence:update"' in data[:40]:
                continue
            if data.startswith(b'{"type":"sync:state"'):
                self.synced.set()
                continue
            seq = json.loads(data)["seq"]
            self.arrivals.record(seq, arrived, time.time_ns())


async def open_listeners(
    count: int, port: int, path: str, first: bytes | None, arrivals: Arrivals
) -> tuple[list[Listener], list[float]]:
    """`count` listeners, opened (and synced) FANOUT_BATCH at a time; also how long each batch took."""
    listeners: list[Listener] = []
    batches: list[float] = []
    for start in range(0, count, FANOUT_BATCH):
        started = time.perf_counter()
        batch = [Listener(arrivals) for _ in range(min(FANOUT_BATCH, count - start))]
        await asyncio.gather(*(listener.open(port, path, first) for listener in batch))
        async with asyncio.timeout(300):
            for listener in batch:
                await listener.synced.wait()
        listeners.extend(batch)
        batches.append(time.perf_counter() - started)
    return listeners, batches


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """No collection in this (the client) process while it measures: its pauses are not the server's."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def latency_sum(*parts: Latency) -> Latency:
    """The floor of a path made of independent hops: their percentiles added (an upper bound of the sum's)."""
    return Latency(
        sum(p.p50_ms for p in parts), sum(p.p99_ms for p in parts), sum(p.mean_ms for p in parts), parts[0].count
    )


async def timed(operation: Callable[[int], Awaitable[object]], warmup: int, samples: int) -> Latency:
    for i in range(warmup):
        await operation(i)
    times = []
    with quiet_gc():
        for i in range(samples):
            started = time.perf_counter()
            await operation(warmup + i)
            times.append(time.perf_counter() - started)
    return Latency.of(times)


async def drive(send: Callable[[int], Awaitable[None]], workers: int, seconds: float) -> tuple[float, Latency]:
    """`workers` loops sending back to back for `seconds`; the rate of completed sends and their latency."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker(first: int) -> None:
        i = first
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await send(i)
            latencies.append(time.perf_counter() - started)
            i += workers

    with quiet_gc():
        started = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(workers)))
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, Latency.of(latencies)


# -- a large space, written straight into its file -----------------------------------------


def write_big_space(path: Path, space_id: str, user_id: str) -> None:
    """A space file of BIG_ASSETS assets, each with VARIANTS_PER_ASSET completed variants and their lineage.

    Written with the product's own schema (`schema.migrate`) before space-state first opens
    the space, as rows an import would leave: valid against every CHECK and foreign key.
    """
    types = ("character", "scene", "item", "sfx", "music", "speech")
    now = time.time_ns() // 1_000_000 - BIG_ASSETS * 60_000
    assets, variants, lineage = [], [], []
    for index in range(BIG_ASSETS):
        asset_id, kind = uuid.uuid4().hex, types[index % len(types)]
        audio = kind in ("sfx", "music", "speech")
        created = now + index * 60_000
        variant_ids = [uuid.uuid4().hex for _ in range(VARIANTS_PER_ASSET)]
        for number, variant_id in enumerate(variant_ids):
            recipe = {
                "prompt": f"{kind} {index}: a weathered lighthouse keeper in a yellow raincoat, soft fog, rim light,"
                f" 35mm film grain, take {number + 1}",
                "model": "eleven_sound_effects_v2" if audio else "gemini-3.1-flash-image",
                "mediaKind": "audio" if audio else "image",
                "assetType": kind,
                "aspectRatio": None if audio else "1:1",
                "imageSize": None if audio else "1K",
                "referenceAssetIds": [],
                "referenceVariantIds": [variant_ids[0]] if number else [],
            }
            ext = "mp3" if audio else "png"
            key = f"{'media' if audio else 'images'}/{space_id}/{variant_id}.{ext}"
            variants.append(
                {
                    "id": variant_id,
                    "asset_id": asset_id,
                    "media_kind": "audio" if audio else "image",
                    "workflow_id": None,
                    "status": "completed",
                    "error_message": None,
                    "image_key": None if audio else key,
                    "thumb_key": None if audio else f"images/{space_id}/{variant_id}_thumb.webp",
                    "media_key": key,
                    "media_mime_type": "audio/mpeg" if audio else "image/png",
                    "media_size_bytes": 180_000 + index,
                    "media_width": None if audio else 1024,
                    "media_height": None if audio else 1024,
                    "media_duration_ms": 4_000 if audio else None,
                    "generation_provenance": json.dumps(
                        {
                            "operation": "refine" if number else "generate",
                            "sourceVariantIds": recipe["referenceVariantIds"],
                        }
                    ),
                    "provider_metadata": json.dumps(
                        {"provider": "elevenlabs" if audio else "gemini", "model": recipe["model"], "latencyMs": 5_200}
                    ),
                    "recipe": json.dumps(recipe),
                    "starred": int(number == 0 and index % 5 == 0),
                    "created_by": user_id,
                    "created_at": created + number * 1_000,
                    "updated_at": created + number * 1_000 + 6_000,
                    "poster_key": None,
                }
            )
            if number:
                lineage.append(
                    {
                        "id": uuid.uuid4().hex,
                        "parent_variant_id": variant_ids[0],
                        "child_variant_id": variant_id,
                        "relation_type": "refined",
                        "severed": 0,
                        "created_at": created + number * 1_000,
                    }
                )
        assets.append(
            {
                "id": asset_id,
                "name": f"{kind.title()} {index}",
                "type": kind,
                "media_kind": "audio" if audio else "image",
                "parent_asset_id": assets[-1]["id"] if index % 10 else None,
                "active_variant_id": variant_ids[-1],
                "position_x": float(index % 100) * 220,
                "position_y": float(index // 100) * 220,
                "tags": json.dumps(["bench", f"group-{index % 7}"]),
                "created_by": user_id,
                "created_at": created,
                "updated_at": created + 10_000,
                "deleted_at": None,
            }
        )
    connection = connect(path)
    try:
        schema.migrate(connection)
        connection.execute("BEGIN IMMEDIATE")
        for table, columns, rows in (
            ("variants", VARIANT_COLUMNS, variants),
            ("assets", ASSET_COLUMNS, assets),
            ("lineage", LINEAGE_COLUMNS, lineage),
        ):
            connection.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                [tuple(row[name] for name in columns) for row in rows],
            )
        connection.execute("INSERT INTO meta (key, value) VALUES ('space_id', ?)", (space_id,))
        connection.execute("COMMIT")
    finally:
        connection.close()


# -- the floor: a plain FastAPI WebSocket app and a raw NATS echo, in their own process ----------


def _json_rows(table: str, columns: Sequence[str], where: str = "") -> str:
    pairs = ", ".join(f"'{name}', {name}" for name in columns)
    return f"(SELECT coalesce(json_group_array(json_object({pairs})), '[]') FROM {table} {where})"


_FLOOR_STATE = (
    f"SELECT {_json_rows('assets', ASSET_COLUMNS, 'WHERE deleted_at IS NULL')}, "
    f"{_json_rows('variants', VARIANT_COLUMNS)}, {_json_rows('lineage', LINEAGE_COLUMNS)}, "
    "(SELECT coalesce(max(seq), 0) FROM events)"
)


def floor_app(nats_url: str) -> FastAPI:
    """What the product's paths cost at the least on this stack: echo, broadcast, and a space file read and sent."""
    fanout: set[WebSocket] = set()
    files: dict[str, sqlite3.Connection] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = await nats.connect(nats_url)

        async def echo(msg) -> None:
            await msg.respond(msg.data)

        await client.subscribe(FLOOR_ECHO, queue="floor", cb=echo)
        yield
        await client.close()
        for connection in files.values():
            connection.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/readyz")
    async def ready() -> dict[str, bool]:
        return {"ready": True}

    @app.websocket("/echo")
    async def echo_socket(socket: WebSocket) -> None:
        await socket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await socket.send_text(await socket.receive_text())

    @app.websocket("/fanout")
    async def fanout_socket(socket: WebSocket) -> None:
        """Whatever one socket sends goes to every other socket."""
        await socket.accept()
        fanout.add(socket)
        try:
            while True:
                frame = await socket.receive_text()
                for other in list(fanout):
                    if other is not socket:
                        await other.send_text(frame)
        except WebSocketDisconnect:
            pass
        finally:
            fanout.discard(socket)

    @app.websocket("/space")
    async def space_socket(socket: WebSocket) -> None:
        """`{"path", "sinceSeq"?}`: the space file's rows as one sync:state frame, or its events after sinceSeq."""
        await socket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                request = json.loads(await socket.receive_text())
                path = request["path"]
                if path not in files:
                    files[path] = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
                connection = files[path]
                if request.get("sinceSeq") is None:
                    assets, variants, lineage, seq = connection.execute(_FLOOR_STATE).fetchone()
                    await socket.send_text(
                        f'{{"type":"sync:state","seq":{seq},"assets":{assets},"variants":{variants},'
                        f'"lineage":{lineage},"presence":[]}}'
                    )
                else:
                    rows = connection.execute(
                        "SELECT payload FROM events WHERE seq > ? ORDER BY seq LIMIT 1000", (request["sinceSeq"],)
                    ).fetchall()
                    for (payload,) in rows:
                        await socket.send_text(payload)

    return app


def serve_floor(port: int, nats_url: str) -> None:
    """The floor process: uvicorn with the gateway's settings (`makefx_runtime.serve`), uvloop, websockets."""
    config = uvicorn.Config(
        floor_app(nats_url), host=HOST, port=port, log_config=None, lifespan="on", ws_max_size=1024 * 1024
    )
    uvicorn.Server(config).run()


# -- the benchmark ---------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    id: str
    email: str
    token: str


class SpaceBench:
    def __init__(self, root: Path, server: NatsServer) -> None:
        self.root = root
        self.data_dir = root / "data"
        self.server = server
        self.jwt_secret = secrets.token_urlsafe(48)
        self.children: list[Child] = []
        self.http: httpx.AsyncClient | None = None
        self.bus = Bus(ServiceSettings(nats_url=server.url, service_name="bench"))
        self.owner: User | None = None
        self.editor: User | None = None

    # -- set-up ------------------------------------------------------------------------------

    def environment(self, port: int) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("MAKEFX_")}
        env.update(
            MAKEFX_NATS_URL=self.server.url,
            MAKEFX_DATA_DIR=str(self.data_dir),
            MAKEFX_HTTP_HOST=HOST,
            MAKEFX_HTTP_PORT=str(port),
            MAKEFX_REPLICA_ID=REPLICA,
            MAKEFX_JWT_SECRET=self.jwt_secret,
            MAKEFX_ACCESS_COOKIE_SECURE="false",
            MAKEFX_ARGON2_TIME_COST="1",
            MAKEFX_ARGON2_MEMORY_COST_KIB="8192",
            MAKEFX_LOG_LEVEL="WARNING",
            MAKEFX_LOG_FORMAT="text",
            # 1,000 sockets of one space each get a presence frame per join: keep them all.
            MAKEFX_SOCKET_OUTBOX_LIMIT="200000",
            PYTHONUNBUFFERED="1",
        )
        return env

    async def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for name, args in (
            ("space-state", ["-m", "makefx_space_state"]),
            ("gateway", ["-m", "makefx_gateway"]),
            ("floor", ["-m", "tests.bench.bench_space", "floor"]),
        ):
            port = free_port()
            if name == "floor":
                args = [*args, str(port), self.server.url]
            child = await Child.start(name, args, self.environment(port), port, self.root / f"{name}.log")
            self.children.append(child)
        for child in self.children:
            await child.wait_ready()
        await self.bus.start()
        self.http = httpx.AsyncClient(base_url=self.gateway.url, timeout=30)
        self.owner = await self.register("owner")
        self.editor = await self.register("editor")

    async def stop(self) -> None:
        try:
            if self.http is not None:
                await self.http.aclose()
            if self.bus.is_connected:
                await self.bus.stop()
        finally:
            await asyncio.gather(*(child.stop() for child in self.children))

    def child(self, name: str) -> Child:
        return next(child for child in self.children if child.name == name)

    @property
    def gateway(self) -> Child:
        return self.child("gateway")

    @property
    def state(self) -> Child:
        return self.child("space-state")

    @property
    def floor(self) -> Child:
        return self.child("floor")

    def pids(self) -> dict[str, int]:
        return {
            "gateway": self.gateway.pid,
            "space-state": self.state.pid,
            "nats-server": self.server.process.pid,
            "floor": self.floor.pid,
            "bench client": os.getpid(),
        }

    async def settle(self) -> float:
        return await settle([self.gateway.pid, self.state.pid, self.server.process.pid])

    # -- REST ----------------------------------------------------------------------------------

    async def register(self, name: str) -> User:
        assert self.http is not None
        email = f"{name}-{uuid.uuid4().hex[:8]}@bench.example"
        reply = await self.http.post("/api/auth/register", json={"email": email, "password": PASSWORD, "name": name})
        reply.raise_for_status()
        body = reply.json()
        return User(body["user"]["id"], email, body["accessToken"])

    async def create_space(self, name: str) -> str:
        assert self.http is not None and self.owner is not None and self.editor is not None
        headers = {"Authorization": f"Bearer {self.owner.token}"}
        reply = await self.http.post("/api/spaces", json={"name": name}, headers=headers)
        reply.raise_for_status()
        space_id = reply.json()["space"]["id"]
        added = await self.http.post(
            f"/api/spaces/{space_id}/members", json={"email": self.editor.email, "role": "editor"}, headers=headers
        )
        added.raise_for_status()
        return space_id

    def socket_path(self, space_id: str, user: User) -> str:
        return f"/api/spaces/{space_id}/ws?access_token={user.token}"

    async def open_socket(self, space_id: str, user: User, *, compression: str | None = "deflate") -> SpaceSocket:
        return await SpaceSocket.open(
            f"ws://{HOST}:{self.gateway.port}{self.socket_path(space_id, user)}", compression=compression
        )

    async def synced_socket(self, space_id: str, user: User, *, compression: str | None = "deflate") -> SpaceSocket:
        sock = await self.open_socket(space_id, user, compression=compression)
        waiting = sock.expect("sync")
        await sock.send(SyncRequest().to_json())
        async with asyncio.timeout(60):
            await waiting
        return sock

    @staticmethod
    async def create_asset(sock: SpaceSocket, name: str) -> str:
        request_id = uuid.uuid4().hex
        created = sock.expect("event", request_id)
        await sock.send(AssetCreate(name=name, asset_type="character", request_id=request_id).to_json())
        async with asyncio.timeout(30):
            _, body = await created
        return body["asset"]["id"]

    @staticmethod
    def update(asset_id: str, i: int, request_id: str) -> bytes:
        return AssetUpdate(
            asset_id=asset_id, changes=AssetChanges(position=Position(x=i % 997, y=i % 991)), request_id=request_id
        ).to_json()

    # -- (a) mutation -> ack, and -> event at a second client -----------------------------------

    async def mutation_latency(self) -> None:
        assert self.owner is not None and self.editor is not None
        # The floor first: one WS hop (echo) and one bus hop (request/reply), as the same clients see them.
        echo = await SpaceSocket.open(f"ws://{HOST}:{self.floor.port}/echo")
        payload = encode(
            UpdateAsset(
                space_id="sp_bench",
                request_id=uuid.uuid4().hex,
                actor=Actor(user_id=self.owner.id, role=Role.EDITOR),
                asset_id=uuid.uuid4().hex,
                changes=AssetChanges(position=Position(x=1, y=2)),
            )
        )

        async def echo_once(i: int) -> None:
            request_id = f"echo-{i}"
            echoed = echo.expect("event", request_id)
            await echo.send(self.update("asset", i, request_id))
            await echoed

        ws_floor = await timed(echo_once, MUTATION_WARMUP, MUTATION_SAMPLES)
        await echo.close()
        bus_floor = await timed(
            lambda i: self.bus.nats.request(FLOOR_ECHO, payload, timeout=5), MUTATION_WARMUP, MUTATION_SAMPLES
        )
        floor = latency_sum(ws_floor, bus_floor)

        space_id = await self.create_space("latency")
        writer = await self.synced_socket(space_id, self.owner)
        reader = await self.synced_socket(space_id, self.editor)
        asset_id = await self.create_asset(writer, "moved around")
        await self.settle()
        acks: list[float] = []
        events: list[float] = []

        async def mutate(i: int) -> None:
            request_id = f"a-{i}"
            acked, seen = writer.expect("ack", request_id), reader.expect("event", request_id)
            started = time.perf_counter()
            await writer.send(self.update(asset_id, i, request_id))
            async with asyncio.timeout(30):
                (acked_at, _), (seen_at, _) = await asyncio.gather(acked, seen)
            if i >= MUTATION_WARMUP:
                acks.append(acked_at - started)
                events.append(seen_at - started)

        for i in range(MUTATION_WARMUP):
            await mutate(i)
        meter = CpuMeter(self.pids())
        meter.start()
        with quiet_gc():
            for i in range(MUTATION_SAMPLES):
                await mutate(MUTATION_WARMUP + i)
        cpu = meter.stop()
        await writer.close()
        await reader.close()

        # The space-state part alone: the same command straight to the replica over the bus, no gateway.
        actor = Actor(user_id=self.owner.id, role=Role.OWNER)
        subject = STATE_COMMANDS.fill(replica=REPLICA)

        async def command(i: int) -> None:
            changes = AssetChanges(position=Position(x=i % 997, y=i % 991))
            update = UpdateAsset(
                space_id=space_id, request_id=uuid.uuid4().hex, actor=actor, asset_id=asset_id, changes=changes
            )
            reply = await self.bus.nats.request(subject, encode(update), timeout=30)
            if not reply.data.startswith(b'{"type":"space:applied"'):
                raise RuntimeError(f"refused: {reply.data[:300]!r}")

        await self.settle()
        replica = await timed(command, MUTATION_WARMUP, MUTATION_SAMPLES)

        ack, event = Latency.of(acks), Latency.of(events)
        table = Table("(a) space mutation latency (issue 4): asset:update over the gateway socket, one at a time")
        table.latency("mutation -> ack (client A)", ack, floor, "WS echo + NATS req/reply")
        table.latency("mutation -> event (client B)", event, floor, "WS echo + NATS req/reply")
        table.latency("  space-state alone: command on bus", replica, bus_floor, "NATS req/reply")
        table.note(
            f"floor parts: WS echo p50 {ws_floor.p50_ms:.3f} / p99 {ws_floor.p99_ms:.3f} ms, "
            f"NATS req/reply p50 {bus_floor.p50_ms:.3f} / p99 {bus_floor.p99_ms:.3f} ms"
        )
        table.note(
            f"target: p50 within 2x the floor -> ack {ack.p50_ms / floor.p50_ms:.2f}x, "
            f"event {event.p50_ms / floor.p50_ms:.2f}x; {MUTATION_SAMPLES} mutations after {MUTATION_WARMUP} warm-up"
        )
        table.note(f"CPU during the mutations (share of one core): {cpu}")
        table.note(machine_load())
        table.print()

    # -- (b) one mutation fanned out to 1,000 sockets --------------------------------------------

    async def fan_out(self) -> None:
        assert self.owner is not None and self.editor is not None
        space_id = await self.create_space("fan-out")
        writer = await self.synced_socket(space_id, self.owner)
        asset_id = await self.create_asset(writer, "watched by a thousand")
        await self.settle()

        arrivals = Arrivals(FANOUT_SOCKETS)
        rss_before = rss_mb(self.gateway.pid)
        meter = CpuMeter({"gateway": self.gateway.pid, "bench client": os.getpid()})
        meter.start()
        started = time.perf_counter()
        listeners, batches = await open_listeners(
            FANOUT_SOCKETS,
            self.gateway.port,
            self.socket_path(space_id, self.editor),
            SyncRequest().to_json(),
            arrivals,
        )
        opened = time.perf_counter() - started
        await self.settle()
        join_cpu = meter.stop()
        joined = time.perf_counter() - started
        rss_after = rss_mb(self.gateway.pid)

        events: list[dict[str, Any]] = []

        async def mutate(i: int) -> tuple[int, int]:
            request_id = f"b-{i}"
            acked, echoed = writer.expect("ack", request_id), writer.expect("event", request_id)
            sent = time.time_ns()
            await writer.send(self.update(asset_id, i, request_id))
            async with asyncio.timeout(30):
                (_, ack), (_, event) = await asyncio.gather(acked, echoed)
            await arrivals.wait(ack["seq"])
            events.append(event)
            return sent, ack["seq"]

        meter = CpuMeter({"gateway": self.gateway.pid, "space-state": self.state.pid, "bench client": os.getpid()})
        for i in range(FANOUT_WARMUP):
            await mutate(i)
        meter.start()
        with quiet_gc():
            sends = [await mutate(FANOUT_WARMUP + i) for i in range(FANOUT_MUTATIONS)]
        fanout_cpu = meter.stop()
        ours_arrived, ours_parsed, ours_spread = self.deliveries(arrivals, sends)
        for listener in listeners:
            listener.close()
        await writer.close()
        left = await self.settle()

        # The floor: the same sockets on a plain FastAPI app that sends each frame it gets to every other socket.
        floor_arrivals = Arrivals(FANOUT_SOCKETS)
        started = time.perf_counter()
        floor_listeners, _ = await open_listeners(FANOUT_SOCKETS, self.floor.port, "/fanout", None, floor_arrivals)
        floor_opened = time.perf_counter() - started
        await settle([self.floor.pid])
        trigger = await SpaceSocket.open(f"ws://{HOST}:{self.floor.port}/fanout")

        async def broadcast(i: int) -> tuple[int, int]:
            seq = 1_000_000 + i
            frame = json.dumps({**events[-1], "seq": seq}, separators=(",", ":"))  # the same event, its own seq
            sent = time.time_ns()
            await trigger.send(frame)
            await floor_arrivals.wait(seq)
            return sent, seq

        for i in range(FANOUT_WARMUP):
            await broadcast(i)
        with quiet_gc():
            floor_sends = [await broadcast(FANOUT_WARMUP + i) for i in range(FANOUT_MUTATIONS)]
        floor_arrived, floor_parsed, floor_spread = self.deliveries(floor_arrivals, floor_sends)
        for listener in floor_listeners:
            listener.close()
        await trigger.close()

        table = Table(
            f"(b) fan-out (issue 4): one asset:update to {FANOUT_SOCKETS:,} sockets of one space, "
            f"{FANOUT_MUTATIONS} times; baseline = plain FastAPI broadcast to as many sockets"
        )
        table.latency("send -> frame at socket (kernel)", ours_arrived, floor_arrived, "FastAPI broadcast")
        table.latency("send -> frame parsed by client", ours_parsed, floor_parsed, "FastAPI broadcast")
        table.latency("first -> last socket, per mutation", ours_spread, floor_spread, "FastAPI broadcast")
        table.note(
            f"target: p99 <= 50 ms -> {ours_arrived.p99_ms:.1f} ms at the socket, {ours_parsed.p99_ms:.1f} ms parsed"
        )
        table.latency(
            f"open + sync {FANOUT_SOCKETS:,} sockets, in all",
            Latency.of([opened]),
            Latency.of([floor_opened]),
            "same, FastAPI",
        )
        table.note(
            f"joining, {FANOUT_BATCH} sockets at a time (handshake, then sync:request): first batch {ms(batches[0])}, "
            f"last batch {ms(batches[-1])}; the gateway was idle again {ms(joined)} after the first; "
            f"gateway RSS {rss_before:.0f} -> {rss_after:.0f} MB"
        )
        table.note(f"CPU while joining: {join_cpu}; after the sockets closed the gateway took {ms(left)} to be idle")
        table.note(f"CPU during the {FANOUT_MUTATIONS} fanned-out mutations: {fanout_cpu}")
        table.note(machine_load())
        table.print()

    @staticmethod
    def deliveries(arrivals: Arrivals, sends: list[tuple[int, int]]) -> tuple[Latency, Latency, Latency]:
        arrived, parsed, spread = [], [], []
        for sent, seq in sends:
            got = arrivals.by_seq[seq]
            arrived += [(at - sent) / 1e9 for at, _ in got]
            parsed += [(at - sent) / 1e9 for _, at in got]
            spread.append((max(at for at, _ in got) - min(at for at, _ in got)) / 1e9)
        return Latency.of(arrived), Latency.of(parsed), Latency.of(spread)

    # -- (c) sync:state of a large space, and resume ----------------------------------------------

    async def sync_and_resume(self) -> None:
        assert self.owner is not None and self.editor is not None
        space_id = await self.create_space("large")
        path = space_path(self.data_dir, space_id)
        started = time.perf_counter()
        await asyncio.to_thread(write_big_space, path, space_id, self.owner.id)
        written = time.perf_counter() - started
        file_mb = path.stat().st_size / 1e6

        floor_url = f"ws://{HOST}:{self.floor.port}/space"
        full = json.dumps({"path": str(path)})
        sizes: list[int] = []
        sockets: list[SpaceSocket] = []

        async def sync_ours(compression: str | None) -> Callable[[int], Awaitable[None]]:
            sock = await self.open_socket(space_id, self.owner, compression=compression)
            sockets.append(sock)

            async def once(i: int) -> None:
                waiting = sock.expect("sync")
                await sock.send(SyncRequest().to_json())
                async with asyncio.timeout(120):
                    await waiting
                sizes.append(sock.last_frame_chars)

            return once

        async def sync_floor(compression: str | None) -> Callable[[int], Awaitable[None]]:
            sock = await SpaceSocket.open(floor_url, compression=compression)
            sockets.append(sock)

            async def once(i: int) -> None:
                waiting = sock.expect("sync")
                await sock.send(full)
                async with asyncio.timeout(120):
                    await waiting

            return once

        sync = await timed(await sync_ours("deflate"), SYNC_WARMUP, SYNC_RUNS)
        sync_floor_latency = await timed(await sync_floor("deflate"), SYNC_WARMUP, SYNC_RUNS)
        sync_plain = await timed(await sync_ours(None), 1, SYNC_RUNS_PLAIN)
        sync_floor_plain = await timed(await sync_floor(None), 1, SYNC_RUNS_PLAIN)
        for sock in sockets:
            await sock.close()
        await self.settle()
        state_mb = sizes[-1] / 1e6

        # What the client alone spends parsing it, and the rows read from SQLite alone (no JSON).
        frame = await self.fetch_state_frame(space_id)
        parse = Latency.of([self.time_it(json.loads, frame) for _ in range(5)])
        reader = sqlite3.connect(path)
        tables = ("assets", "variants", "lineage")
        rows_read = Latency.of(
            [self.time_it(lambda: [reader.execute(f"SELECT * FROM {t}").fetchall() for t in tables]) for _ in range(5)]
        )
        json_read = Latency.of([self.time_it(lambda: reader.execute(_FLOOR_STATE).fetchone()) for _ in range(5)])
        reader.close()

        resume, reconnect, floor_resume, floor_reconnect = await self.resume(space_id, path)

        table = Table(
            f"(c) sync and resume (issue 4): a space of {BIG_ASSETS:,} assets, {BIG_ASSETS * VARIANTS_PER_ASSET:,} "
            f"variants, {BIG_ASSETS * (VARIANTS_PER_ASSET - 1):,} lineage rows; baseline = the floor app reading "
            "the same SQLite file and sending it over one WebSocket"
        )
        table.latency("sync:request -> sync:state parsed", sync, sync_floor_latency, "SQLite -> FastAPI WS")
        table.latency("  same, without permessage-deflate", sync_plain, sync_floor_plain, "SQLite -> FastAPI WS")
        table.latency(
            f"resume {RESUME_EVENTS} missed (sync:request sinceSeq)", resume, floor_resume, "SQLite -> FastAPI WS"
        )
        table.latency(f"reconnect + resume {RESUME_EVENTS} missed", reconnect, floor_reconnect, "connect + same")
        table.note(
            f"sync:state is {state_mb:.1f} MB of JSON ({file_mb:.0f} MB SQLite file, written in {ms(written)}); "
            f"the client's json.loads of it alone: p50 {parse.p50_ms:.0f} ms; "
            f"SQLite alone: rows {rows_read.p50_ms:.0f} ms, as JSON {json_read.p50_ms:.0f} ms (in this process)"
        )
        table.note(
            f"targets: sync <= 150 ms -> {sync.p50_ms:.0f} ms p50; resume <= 10 ms -> {resume.p50_ms:.1f} ms p50"
        )
        table.note(machine_load())
        table.print()

    async def fetch_state_frame(self, space_id: str) -> str:
        assert self.owner is not None
        connection = await websockets.connect(
            f"ws://{HOST}:{self.gateway.port}{self.socket_path(space_id, self.owner)}", max_size=None
        )
        try:
            await connection.send(SyncRequest().to_json().decode())
            async with asyncio.timeout(120):
                while True:
                    frame = await connection.recv()
                    if isinstance(frame, str) and frame.startswith('{"type":"sync:state"'):
                        return frame
        finally:
            await connection.close()

    @staticmethod
    def time_it(work: Callable[..., object], *args: object) -> float:
        started = time.perf_counter()
        work(*args)
        return time.perf_counter() - started

    async def resume(self, space_id: str, path: Path) -> tuple[Latency, Latency, Latency, Latency]:
        """A client leaves at seq N; another makes RESUME_EVENTS mutations; it comes back with sinceSeq N."""
        assert self.owner is not None and self.editor is not None
        writer = await self.synced_socket(space_id, self.owner)
        asset_id = await self.create_asset(writer, "resumed")
        seq = 0
        from_request: list[float] = []
        from_connect: list[float] = []
        floor_request: list[float] = []
        floor_connect: list[float] = []
        for run in range(1 + RESUME_WARMUP + RESUME_RUNS):
            since = seq
            for i in range(RESUME_EVENTS):
                request_id = f"c-{run}-{i}"
                acked = writer.expect("ack", request_id)
                await writer.send(self.update(asset_id, i, request_id))
                async with asyncio.timeout(30):
                    _, ack = await acked
                seq = ack["seq"]
            if since == 0:
                continue  # the first round only puts the client's starting point behind some events
            await self.settle()
            for url, request, times in (
                (
                    f"ws://{HOST}:{self.gateway.port}{self.socket_path(space_id, self.editor)}",
                    SyncRequest(since_seq=since).to_json().decode(),
                    (from_request, from_connect),
                ),
                (
                    f"ws://{HOST}:{self.floor.port}/space",
                    json.dumps({"path": str(path), "sinceSeq": since}),
                    (floor_request, floor_connect),
                ),
            ):
                connecting = time.perf_counter()
                sock = await SpaceSocket.open(url)
                last = sock.expect("seq", since + RESUME_EVENTS)
                requested = time.perf_counter()
                await sock.send(request)
                async with asyncio.timeout(30):
                    arrived, _ = await last
                await sock.close()
                if run > RESUME_WARMUP:
                    times[0].append(arrived - requested)
                    times[1].append(arrived - connecting)
        await writer.close()
        return (
            Latency.of(from_request),
            Latency.of(from_connect),
            Latency.of(floor_request),
            Latency.of(floor_connect),
        )

    # -- (d) committed mutations per second, one replica, 100 spaces --------------------------------

    async def commit_throughput(self) -> None:
        assert self.owner is not None
        actor = Actor(user_id=self.owner.id, role=Role.OWNER)
        subject = STATE_COMMANDS.fill(replica=REPLICA)
        spaces = [f"sp_{uuid.uuid4().hex}" for _ in range(THROUGHPUT_SPACES)]

        async def command(message: CreateAsset | UpdateAsset) -> dict[str, Any]:
            reply = await self.bus.nats.request(subject, encode(message), timeout=30)
            body = json.loads(reply.data)
            if body.get("type") != "space:applied":
                raise RuntimeError(f"refused: {body}")
            return body

        creates = [
            CreateAsset(space_id=space_id, request_id=uuid.uuid4().hex, actor=actor, name="busy", asset_type="item")
            for space_id in spaces
        ]
        created = await asyncio.gather(*(command(create) for create in creates))
        assets = [body["events"][0]["asset"]["id"] for body in created]
        await self.settle()

        async def update(i: int) -> None:
            index = i % THROUGHPUT_SPACES
            await command(
                UpdateAsset(
                    space_id=spaces[index],
                    request_id=uuid.uuid4().hex,
                    actor=actor,
                    asset_id=assets[index],
                    changes=AssetChanges(position=Position(x=i % 997, y=i % 991)),
                )
            )

        payload = encode(
            UpdateAsset(
                space_id=spaces[0],
                request_id=uuid.uuid4().hex,
                actor=actor,
                asset_id=assets[0],
                changes=AssetChanges(position=Position(x=1, y=2)),
            )
        )

        async def echo(i: int) -> None:
            await self.bus.nats.request(FLOOR_ECHO, payload, timeout=30)

        meter = CpuMeter(self.pids())
        await drive(echo, THROUGHPUT_WORKERS, 1.0)
        meter.start()
        floor_rate, floor_latency = await drive(echo, THROUGHPUT_WORKERS, THROUGHPUT_SECONDS)
        floor_cpu = meter.stop()
        await drive(update, THROUGHPUT_WORKERS, 1.0)
        await self.settle()
        meter.start()
        rate, latency = await drive(update, THROUGHPUT_WORKERS, THROUGHPUT_SECONDS)
        cpu = meter.stop()

        table = Table(
            f"(d) committed mutations per second (issue 4): UpdateAsset straight to {REPLICA} over the bus, "
            f"{THROUGHPUT_SPACES} spaces, {THROUGHPUT_WORKERS} in flight, {THROUGHPUT_SECONDS:.0f} s; "
            "baseline = raw nats-py echo responder, same concurrency"
        )
        table.throughput("committed mutations", rate, floor_rate, "NATS echo req/reply")
        table.latency("latency under that load", latency, floor_latency, "NATS echo req/reply")
        table.note(f"target: >= 3,000/s -> {rate:,.0f}/s")
        table.note(f"CPU (share of one core) during ours: {cpu}")
        table.note(f"CPU during the baseline: {floor_cpu}")
        table.note(machine_load())
        table.print()


async def run() -> None:
    raise_file_limit(8192)
    with tempfile.TemporaryDirectory(prefix="makefx-bench-space-") as tmp:
        root = Path(tmp)
        with NatsServer(root / "nats") as server:
            bench = SpaceBench(root, server)
            try:
                await bench.start()
                await bench.mutation_latency()
                await bench.fan_out()
                await bench.sync_and_resume()
                await bench.commit_throughput()
            except BaseException:
                for child in bench.children:
                    print(f"\n--- {child.name} log (tail) ---\n{child.tail()}", file=sys.stderr)
                raise
            finally:
                await bench.stop()


if __name__ == "__main__" and sys.argv[1:2] == ["floor"]:
    serve_floor(int(sys.argv[2]), sys.argv[3])
