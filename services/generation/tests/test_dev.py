"""Generation in `makefx dev`: every service with its NATS permissions from the topology, as deployed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from makefx_cli.nats_server import free_port

from .conftest import Stack

MAKEFX = str(Path(sys.executable).parent / "makefx")


@pytest.fixture
def product(tmp_path: Path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAKEFX_")}
    env.update(
        MAKEFX_DATA_DIR=str(tmp_path / "data"),
        MAKEFX_HTTP_PORT=str(port),
        MAKEFX_NATS_PORT=str(free_port()),
        MAKEFX_ARGON2_TIME_COST="1",
        MAKEFX_ARGON2_MEMORY_COST_KIB="8192",
    )
    process = subprocess.Popen(
        [MAKEFX, "dev"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    seen = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line)
            if re.search(r"Make Effects is running at", line):
                break
        else:
            raise AssertionError("makefx dev did not start:\n" + "".join(seen[-60:]))
        # Keep reading its output, so a full pipe never blocks the product.
        threading.Thread(target=seen.extend, args=(process.stdout,), daemon=True).start()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def test_an_image_generation_completes_under_each_services_nats_permissions(product: str, tmp_path: Path):
    stack = Stack(tmp_path / "client")
    stack.external_url = product
    space_id, owner, editor = await stack.shared_space()
    alice = await stack.connect(space_id, owner["token"])
    bob = await stack.connect(space_id, editor["token"])

    started = await alice.generate(
        name="Fox", assetType="character", prompt="a fox", options={"width": 96, "height": 96}
    )
    result = await bob.result(started["variantId"], timeout=60)

    assert result["status"] == "completed"
    assert bob.variant_states(started["variantId"]) == ["pending", "processing", "uploading", "completed"]
