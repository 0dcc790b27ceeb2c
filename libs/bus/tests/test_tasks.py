"""Stopping a background task whose first cancel is lost (as `asyncio.wait_for` loses one on Python 3.11)."""

from __future__ import annotations

import asyncio

from makefx_bus.tasks import cancel_and_wait


async def test_a_loop_that_swallows_a_cancel_is_still_ended():
    lost = 0

    async def loop_that_loses_one_cancel() -> None:
        nonlocal lost
        while True:
            if lost:
                await asyncio.sleep(0.05)
            else:
                try:
                    await asyncio.sleep(0.05)
                except asyncio.CancelledError:
                    lost += 1  # as `wait_for` does when its result arrives with the cancel

    task = asyncio.create_task(loop_that_loses_one_cancel())
    await asyncio.sleep(0.01)
    async with asyncio.timeout(10):
        await cancel_and_wait(task)
    assert task.cancelled() and lost == 1


async def test_the_outcome_of_a_finished_task_is_left_to_read():
    async def answer() -> int:
        return 42

    task = asyncio.create_task(answer())
    await task
    await cancel_and_wait(task)
    await cancel_and_wait(None)
    assert task.result() == 42
