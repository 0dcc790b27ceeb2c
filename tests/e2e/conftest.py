"""End-to-end fixtures: the real product (`makefx dev`) on free ports, and Debian Chromium driven by Playwright.

The browser is the system's (`/usr/bin/chromium`, Debian package `chromium`), started
through `executable_path`: Playwright never downloads a browser here. Set
`MAKEFX_E2E_URL` to run the tests against a product that is already running (for
example `npm --prefix frontend run dev` in front of `makefx dev`) instead of starting one.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Playwright,
    WebSocketRoute,
    expect,
    sync_playwright,
)

from makefx_cli.nats_server import free_port
from makefx_testing.failure_output import shown_on_failure

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "frontend" / "dist"
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
MAKEFX = str(Path(sys.executable).parent / "makefx")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "correct horse battery"

# `expect` polls for 5 s unless told: as long as any other wait here, since a NATS round trip
# on a stalled machine can take seconds.
expect.set_options(timeout=15_000)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: drives a real browser against the real product")


def chromium_path() -> str:
    path = os.environ.get("MAKEFX_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(f"no Chromium at {path}: `make setup` installs Debian's `chromium` package")
    return path


class Product:
    """One `makefx dev` on free ports with its data in a temporary folder; its output is kept for failures.

    `env` adds settings for this product's services (a provider's key and base URL).
    """

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.http_port = free_port()
        environment = dict(os.environ)
        environment.update(
            MAKEFX_DATA_DIR=str(data_dir),
            MAKEFX_HTTP_PORT=str(self.http_port),
            MAKEFX_NATS_PORT=str(free_port()),
            # Cheap password hashing: the tests sign up many users.
            MAKEFX_ARGON2_TIME_COST="1",
            MAKEFX_ARGON2_MEMORY_COST_KIB="8192",
        )
        environment.update(env or {})
        self.process = subprocess.Popen(
            [MAKEFX, "dev"], env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.tail: collections.deque[str] = collections.deque(maxlen=300)
        threading.Thread(target=self._read, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
            self.tail.append(line)
        self.lines.put(None)

    def output(self) -> str:
        """The last lines the product wrote (every service's log)."""
        return "".join(list(self.tail))

    def wait_until_running(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            if "Make Effects is running at" in line:
                return
        raise AssertionError("makefx dev did not start; its output:\n" + "\n".join(self.seen[-60:]))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def serves_the_app(url: str) -> bool:
    """The gateway serves the built frontend at `/`, and index.html for the app's routes."""
    try:
        pages = [httpx.get(f"{url}{path}", timeout=10) for path in ("/", "/spaces/any-space")]
    except httpx.HTTPError:
        return False
    return all(page.status_code == 200 and '<div id="root">' in page.text for page in pages)


@contextlib.contextmanager
def running_product(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Starts the product, yields its URL once it serves the app, and stops it afterwards."""
    if not (DIST / "index.html").exists():
        pytest.fail("frontend/dist is not built: run `npm --prefix frontend run build` (`make setup` does)")
    product = Product(data_dir, env)
    try:
        product.wait_until_running()
        if not serves_the_app(product.url):
            pytest.fail("the gateway does not serve frontend/dist at / with an index.html fallback")
        with shown_on_failure(f"makefx dev at {product.url}", product.output):
            yield product.url
    finally:
        product.stop()


@pytest.fixture(scope="package")
def product_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The product's one URL: the app and its API."""
    given = os.environ.get("MAKEFX_E2E_URL")
    if given:
        yield given.rstrip("/")
        return
    with running_product(tmp_path_factory.mktemp("product") / "data") as url:
        yield url


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    # Package scope, not session: the sync driver holds an event loop in this thread until it
    # stops, and the async tests that run after this folder need the thread's loop free.
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@dataclass
class Person:
    name: str
    email: str
    page: Page

    def screenshot(self, artifacts: Path, name: str) -> None:
        self.page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


@pytest.fixture
def people(browser: Browser, product_url: str, request: pytest.FixtureRequest) -> Iterator[Callable[[str], Person]]:
    """Opens a browser window per person, each in its own context (own storage, own session)."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_window(name: str) -> Person:
        context = browser.new_context(base_url=product_url, viewport={"width": 1280, "height": 800})
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{name}: {error}"))
        email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
        return Person(name=name, email=email, page=page)

    yield open_window
    for context in contexts:
        context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"


@pytest.fixture
def api(product_url: str) -> Iterator[httpx.Client]:
    """The product's HTTP API, for arranging what a test is not about (a second account, a membership)."""
    with httpx.Client(base_url=product_url, timeout=15) as client:
        yield client


def register(api: httpx.Client, person: Person) -> str:
    """Creates `person`'s account over the API; returns their access token."""
    answer = api.post("/api/auth/register", json={"email": person.email, "password": PASSWORD, "name": person.name})
    assert answer.status_code == 201, answer.text
    return answer.json()["accessToken"]


def space_id_of(page: Page) -> str:
    match = re.search(r"/spaces/([^/?#]+)", page.url)
    assert match, page.url
    return match.group(1)


# -- what a person does in the app, shared by the tests ---------------------------------------


def sign_up(person: Person) -> None:
    page = person.page
    page.goto("/signup")
    page.get_by_label("Name").fill(person.name)
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/spaces$"))
    expect(page.get_by_test_id("user-name")).to_have_text(person.name)


def log_in(person: Person, then: str = "/spaces") -> None:
    page = person.page
    page.goto(f"/login?next={then}")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("user-name")).to_have_text(person.name)


def create_space(person: Person, name: str) -> str:
    page = person.page
    page.get_by_label("Space name").fill(name)
    page.get_by_role("button", name="Create space").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_test_id("connection")).to_have_attribute("data-status", "open")
    return space_id_of(page)


def create_asset(page: Page, name: str) -> None:
    page.get_by_label("Asset name", exact=True).fill(name)
    page.get_by_role("button", name="Create asset").click()
    expect(card(page, name)).to_be_visible()


def card(page: Page, name: str) -> Locator:
    return page.locator(f'[data-testid="asset-card"][data-asset-name="{name}"]')


def drag(page: Page, name: str, dx: int, dy: int) -> tuple[int, int]:
    """Drags a card by (dx, dy) with the mouse; returns where it should land."""
    target = card(page, name)
    x, y = int(target.get_attribute("data-x") or 0), int(target.get_attribute("data-y") or 0)
    box = target.bounding_box()
    assert box is not None
    start_x, start_y = box["x"] + box["width"] / 2, box["y"] + 30
    page.mouse.move(start_x, start_y)
    page.mouse.down()
    page.mouse.move(start_x + dx, start_y + dy, steps=12)
    page.mouse.up()
    return x + dx, y + dy


def add_member(api: httpx.Client, owner: Person, space_id: str, member: Person, role: str) -> None:
    """`owner` (signed in on their page) adds `member` to the space, over the API."""
    token = owner.page.evaluate("JSON.parse(localStorage.getItem('makefx.session')).accessToken")
    added = api.post(
        f"/api/spaces/{space_id}/members",
        json={"email": member.email, "role": role},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert added.status_code == 201, added.text


def open_space(person: Person, space_id: str) -> None:
    log_in(person, then=f"/spaces/{space_id}")
    expect(person.page.get_by_test_id("connection")).to_have_attribute("data-status", "open")


def generate(page: Page, *, name: str, prompt: str) -> Locator:
    """Fills the Generate form for an image and sends it; returns the form."""
    if not page.get_by_role("form", name="Generate").is_visible():
        page.get_by_role("button", name="Generate…").click()
    form = page.get_by_role("form", name="Generate")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Prompt").fill(prompt)
    form.get_by_role("button", name="Generate image").click()
    return form


def wait_until_picture_loads(page: Page, picture: Locator, timeout: float = 60_000) -> None:
    """The <img> has its bytes: the gateway served a real picture, not just a URL."""
    expect(picture).to_have_attribute("data-status", "completed", timeout=timeout)
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=picture.element_handle(), timeout=timeout
    )


def record_card_statuses(page: Page) -> None:
    """From now on, the page notes every status each card's preview shows, in order (window.__statuses)."""
    page.evaluate(
        """() => {
            window.__statuses = {};
            const record = () => document.querySelectorAll('[data-testid="asset-card"]').forEach((card) => {
                const status = card.querySelector('.card-preview')?.dataset.status ?? 'none';
                const seen = (window.__statuses[card.dataset.assetName] ||= []);
                if (seen[seen.length - 1] !== status) seen.push(status);
            });
            new MutationObserver(record).observe(document.body, {
                subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'],
            });
            record();
        }"""
    )


def card_statuses(page: Page, name: str) -> list[str]:
    return page.evaluate("(name) => window.__statuses[name] ?? []", name)


def png_file(path: Path, size: tuple[int, int] = (96, 64), color: tuple[int, int, int] = (220, 90, 30)) -> Path:
    from PIL import Image

    Image.new("RGB", size, color).save(path, format="PNG")
    return path


def drop_file(page: Page, target: str, path: Path, content_type: str) -> None:
    """Drops a file from the computer onto `target` (a selector), as a drag from the desktop does."""
    transfer = page.evaluate_handle(
        """([bytes, name, type]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], name, { type }));
            return transfer;
        }""",
        [list(path.read_bytes()), path.name, content_type],
    )
    for kind in ("dragenter", "dragover", "drop"):
        page.dispatch_event(target, kind, {"dataTransfer": transfer})


def details_of(page: Page, name: str) -> Locator:
    """Opens the asset's details from its card on the canvas; returns the panel."""
    card(page, name).click()
    details = page.get_by_test_id("asset-details")
    expect(details.get_by_role("heading", name=name, exact=True)).to_be_visible()
    return details


def noisy_png_file(path: Path, size: tuple[int, int]) -> Path:
    """A PNG of random pixels: it does not compress, so its file is about 3 bytes per pixel."""
    from PIL import Image

    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(path, format="PNG")
    return path


SPACE_SOCKET = re.compile(r"/api/spaces/[^/]+/ws")


class SocketRelay:
    """Runs a page's space socket through the test, which can hold back what the server sends.

    Once a frame matches `hold_from`, it and every later frame wait (in order, so the page
    sees no gap in seq) until `release()`: the page shows what it had before that frame.
    """

    def __init__(self, page: Page) -> None:
        self.hold_from: Callable[[str], bool] | None = None
        self.held: list[str | bytes] = []
        self.page_side: WebSocketRoute | None = None
        page.route_web_socket(SPACE_SOCKET, self._connect)

    def _connect(self, page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()
        self.page_side = page_side

        def deliver(message: str | bytes) -> None:
            text = message if isinstance(message, str) else message.decode()
            if self.held or (self.hold_from is not None and self.hold_from(text)):
                self.held.append(message)
            else:
                page_side.send(message)

        server_side.on_message(deliver)

    def release(self) -> None:
        self.hold_from = None
        assert self.page_side is not None
        for message in self.held:
            self.page_side.send(message)
        self.held.clear()


class FakeProvider(ThreadingHTTPServer):
    """A provider's HTTP API, faked on a free port for a module's own product.

    Each POST is answered with the JSON `answer(path)` gives (None: 404); `record` keeps the
    calls a test asserts on. Serve it with `serving`.
    """

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _FakeProviderHandler)
        self.calls: list[str] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def record(self, path: str) -> int:
        """Note a call; how many there have been, this one included."""
        with self.lock:
            self.calls.append(path)
            return len(self.calls)

    def answer(self, path: str) -> dict | None:
        raise NotImplementedError


class _FakeProviderHandler(BaseHTTPRequestHandler):
    server: FakeProvider

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = self.server.answer(self.path)
        if answer is None:
            self.send_error(404)
            return
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(fake: FakeProvider) -> Iterator[FakeProvider]:
    """`fake` answering in a thread until the block ends."""
    thread = threading.Thread(target=fake.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.shutdown()
        fake.server_close()
