"""Small helpers over nats-py's KeyValue: one notion of "absent", and NATS failures as `Unavailable`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import nats.errors
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue

from makefx_contracts.errors import Unavailable


async def read(kv: KeyValue, key: str) -> KeyValue.Entry | None:
    """The key's current entry, or None when it was never written, was deleted or has expired.

    nats-server 2.11+ may leave a server-placed marker (header `Nats-Marker-Reason`) as a
    key's last message; nats-py's `get` returns it as an entry with an empty value, so an
    empty value counts as absent too.
    """
    with unavailable_on_nats_errors(f"reading key {key}"):
        try:
            entry = await kv.get(key)
        except KeyNotFoundError:
            return None
    return entry if is_present(entry) else None


def is_present(entry: KeyValue.Entry) -> bool:
    return entry.operation not in (KV_DEL, KV_PURGE) and bool(entry.value)


@contextmanager
def unavailable_on_nats_errors(doing: str) -> Iterator[None]:
    """Turn a NATS failure (disconnected, timed out, no JetStream) into the bus's `Unavailable`."""
    try:
        yield
    except nats.errors.Error as error:
        raise Unavailable(f"NATS failed while {doing}: {error!r}") from error
