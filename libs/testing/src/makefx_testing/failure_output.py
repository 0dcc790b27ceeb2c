"""What the processes a test started wrote, shown under the test when it fails.

A service runs in a process of its own, so pytest captures none of its log: a test that
fails because a service misbehaved would show only its own timeout. Whatever registers
here (the services of a test, a `makefx dev` product) while a test runs has the end of its
output added to that test's failure report (the plugin in `fixtures` does it).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator

_SHOWN = 6000
"""How much of the end of each output a failure shows."""

_sources: dict[int, tuple[str, Callable[[], str]]] = {}
_keys = itertools.count()


class Registration:
    """One output shown on failure until `close`."""

    def __init__(self, title: str, read: Callable[[], str]) -> None:
        self._key = next(_keys)
        _sources[self._key] = (title, read)

    def close(self) -> None:
        _sources.pop(self._key, None)


@contextlib.contextmanager
def shown_on_failure(title: str, read: Callable[[], str]) -> Iterator[None]:
    """While the block runs, a failing test shows the end of what `read` returns, under `title`."""
    registration = Registration(title, read)
    try:
        yield
    finally:
        registration.close()


def sections() -> list[tuple[str, str]]:
    """(title, end of output) of everything registered now; an output that cannot be read says why."""
    shown = []
    for title, read in list(_sources.values()):
        try:
            text = read()
        except OSError as error:
            text = f"(unreadable: {error})"
        shown.append((title, text[-_SHOWN:]))
    return shown
