"""The sliding window behind the login limits, on a clock the test moves."""

from __future__ import annotations

from makefx_gateway.ratelimit import LoginLimits, SlidingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_hits_up_to_the_limit_pass_then_the_key_waits() -> None:
    clock = Clock()
    window = SlidingWindow(3, 60, clock=clock)
    for _ in range(3):
        assert window.retry_after("k") is None
        window.hit("k")
    assert window.retry_after("k") == 60


def test_the_window_slides_so_the_oldest_hit_frees_a_slot_first() -> None:
    clock = Clock()
    window = SlidingWindow(2, 60, clock=clock)
    window.hit("k")
    clock.now += 30
    window.hit("k")
    assert window.retry_after("k") == 30
    clock.now += 30
    assert window.retry_after("k") is None
    window.hit("k")
    assert window.retry_after("k") == 30


def test_keys_are_counted_apart() -> None:
    window = SlidingWindow(1, 60, clock=Clock())
    window.hit("a")
    assert window.retry_after("a") is not None
    assert window.retry_after("b") is None


def test_retry_after_is_at_least_one_second() -> None:
    clock = Clock()
    window = SlidingWindow(1, 60, clock=clock)
    window.hit("k")
    clock.now += 59.9
    assert window.retry_after("k") == 1


def test_expired_keys_are_forgotten_when_the_table_grows() -> None:
    clock = Clock()
    window = SlidingWindow(5, 60, clock=clock, max_keys=10)
    for index in range(10):
        window.hit(f"old-{index}")
    clock.now += 61
    window.hit("new")
    assert set(window._hits) == {"new"}


def test_login_limits_name_the_exhausted_scope() -> None:
    clock = Clock()
    limits = LoginLimits(SlidingWindow(2, 60, clock=clock), SlidingWindow(3, 60, clock=clock))
    limits.hit("ada@example.com", "10.0.0.1")
    limits.hit("ada@example.com", "10.0.0.1")
    assert limits.retry_after("ada@example.com", "10.0.0.2") == ("account", 60)
    assert limits.retry_after("bob@example.com", "10.0.0.1") is None
    limits.hit("bob@example.com", "10.0.0.1")
    assert limits.retry_after("carol@example.com", "10.0.0.1") == ("address", 60)
