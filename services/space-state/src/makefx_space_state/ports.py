"""The ports the service talks to: a space's store (and its transactions), the event publisher, ownership."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from makefx_contracts.chat import ChatTurn
from makefx_contracts.events import SpaceEvent
from makefx_contracts.generation import GenerationJob
from makefx_contracts.rows import ApprovalRow, ApprovalStatus, AssetRow, ChatMessageRow, LineageRow, VariantRow

T = TypeVar("T")


@dataclass(frozen=True)
class StoredEvent:
    """An event as committed: its seq and the exact JSON that was (or will be) published."""

    seq: int
    payload: str


@dataclass(frozen=True)
class SnapshotFile:
    """A consistent copy of one space's database, taken at `seq`."""

    space_id: str
    seq: int
    path: Path


class SpaceTx(Protocol):
    """One transaction on one space's database. Runs in the store's worker thread: no awaiting inside."""

    space_id: str

    def last_seq(self) -> int: ...

    def applied_reply(self, request_id: str) -> str | None:
        """The JSON reply recorded for a request already applied, if any."""

    def asset(self, asset_id: str) -> AssetRow | None:
        """The asset, deleted or not."""

    def ancestors(self, asset_id: str) -> list[str]:
        """Ids up the parent chain from `asset_id` (excluding it), nearest first."""

    def children(self, asset_id: str) -> list[AssetRow]:
        """Live assets whose parent is `asset_id`."""

    def variant(self, variant_id: str) -> VariantRow | None: ...

    def variants_of(self, asset_id: str) -> list[VariantRow]: ...

    def lineage(self, lineage_id: str) -> LineageRow | None: ...

    def put_asset(self, asset: AssetRow) -> None:
        """Insert or replace the whole row (by id)."""

    def put_variant(self, variant: VariantRow) -> None: ...

    def delete_variant(self, variant_id: str) -> None: ...

    def soft_delete_asset(self, asset_id: str, at: int) -> None: ...

    def insert_lineage(self, lineage: LineageRow) -> None: ...

    def sever_lineage(self, lineage_id: str) -> None: ...

    def pending_variants(self) -> list[VariantRow]:
        """Variants of live assets still `pending`: their job is not known to be queued."""

    # -- chat and approvals --

    def chat_message(self, message_id: str) -> ChatMessageRow | None: ...

    def put_chat_message(self, message: ChatMessageRow) -> None:
        """Insert or replace the whole row (by id)."""

    def clear_chat(self) -> None:
        """Delete every message (approvals stay; their `message_id` becomes NULL)."""

    def chat_history(self, limit: int, before: int | None = None) -> list[ChatMessageRow]:
        """The newest `limit` messages created before `before` (ms; all when None), oldest first."""

    def messages_before(self, message: ChatMessageRow, limit: int) -> list[ChatMessageRow]:
        """The newest `limit` messages stored before `message` (in conversation order), oldest first."""

    def approval(self, approval_id: str) -> ApprovalRow | None: ...

    def put_approval(self, approval: ApprovalRow) -> None:
        """Insert or replace the whole row (by id)."""

    def approvals(self, status: ApprovalStatus | None) -> list[ApprovalRow]:
        """Approvals in `status` (every one when None), newest first."""

    def approval_naming_variant(self, variant_id: str) -> ApprovalRow | None:
        """The approval whose `result` names `variant_id` (the one whose tool created it), if any."""

    def recent_assets(self, limit: int) -> list[AssetRow]:
        """Live assets, the most recently changed first."""

    def shown_variant(self, asset: AssetRow) -> VariantRow | None:
        """The asset's active variant, or else its newest."""

    def lineage_among(self, variant_ids: Sequence[str], limit: int) -> list[LineageRow]:
        """Unsevered links whose both ends are among `variant_ids`, newest first."""

    def savepoint(self) -> AbstractContextManager[None]:
        """A nested transaction: what the block wrote is undone if it raises (the exception propagates)."""

    def append_events(self, events: Sequence[SpaceEvent]) -> list[StoredEvent]:
        """Append events with consecutive seqs (each must be `last_seq() + 1` in turn)."""

    def record_request(
        self, request_id: str, seq_from: int | None, seq_to: int | None, reply: str, at: int
    ) -> None: ...


class SpaceStore(Protocol):
    """One space's database. Calls are serialized; each runs in a worker thread."""

    space_id: str

    @property
    def last_seq(self) -> int:
        """The space's seq as of the last commit (cached: this store is the only writer)."""

    @property
    def published_seq(self) -> int:
        """The highest seq known to be stored in JetStream."""

    def mark_published(self, seq: int) -> None:
        """Note that events up to `seq` are in JetStream; saved by the next transaction or `save_published_seq`."""

    async def write(self, work: Callable[[SpaceTx], T], *, in_thread: bool = False) -> T:
        """Run `work` in one transaction (BEGIN IMMEDIATE … COMMIT; rolled back if it raises).

        `in_thread` for big batches (replay) that should not hold the event loop.
        """

    async def state(self) -> tuple[list[AssetRow], list[VariantRow], list[LineageRow], int]:
        """Live assets, their variants, the lineage among them, and the seq they are at."""

    async def state_body(self) -> tuple[int, bytes]:
        """The seq and `{"assets": [...], "variants": [...], "lineage": [...]}` as JSON, read in one transaction."""

    async def state_json(self) -> bytes:
        """The `SpaceSnapshot` wire JSON: live assets, their variants, lineage among them, seq."""

    async def asset_detail(self, asset_id: str) -> tuple[AssetRow | None, list[VariantRow], list[LineageRow], int]: ...

    async def events_since(self, since_seq: int, limit: int) -> tuple[list[StoredEvent], int, int]:
        """Events after `since_seq` (at most `limit`), the first seq still kept, and the current seq."""

    async def save_published_seq(self) -> None: ...

    async def backup(self, path: Path) -> int:
        """Copy the database to `path` with SQLite's online backup; returns the seq it holds."""

    async def trim(self, *, keep_events: int, requests_before: int) -> None:
        """Forget events older than the newest `keep_events` (0 keeps all) and request ids older than a time."""

    async def close(self) -> None: ...


class SpaceFiles(Protocol):
    """Where spaces live on this replica's disk: opening a space's store, snapshot files, restoring one."""

    async def open(self, space_id: str) -> SpaceStore: ...

    def snapshot_path(self, space_id: str, seq: int) -> Path: ...

    async def restore(self, space_id: str, snapshot: Path) -> int:
        """Replace the (closed) space's database with the snapshot's; returns the seq it holds."""


class EventPublisher(Protocol):
    """Stores events in JetStream (`SPACE_EVENTS`); raises `PublishFailed` when it cannot."""

    async def publish(self, event: SpaceEvent) -> None:
        """Store one event (`Nats-Msg-Id = <spaceId>:<seq>`), returning once JetStream acknowledged it."""

    async def publish_all(self, events: Sequence[SpaceEvent]) -> None:
        """Store events of one space in seq order, each as `publish` would, returning once JetStream
        acknowledged them all; if it did not, `PublishFailed.stored` says how many of the first it did."""


class JobPublisher(Protocol):
    """Queues generation jobs in JetStream (`GEN_JOBS`); raises `PublishFailed` when it cannot."""

    async def publish_job(self, job: GenerationJob) -> None:
        """Store one job (`Nats-Msg-Id = <variantId>:<attempt>`), returning once JetStream acknowledged it."""


class TurnPublisher(Protocol):
    """Queues chat turns in JetStream (`CHAT`); raises `PublishFailed` when it cannot."""

    async def publish_turn(self, turn: ChatTurn) -> None:
        """Store one turn (`Nats-Msg-Id = <messageId>`), returning once JetStream acknowledged it."""


class Ownership(Protocol):
    """Whether this replica may serve a space: the lease hook the router fills in."""

    async def ensure_owner(self, space_id: str) -> None:
        """Return when this replica holds (or just took) the space's lease; raise `Moved` otherwise."""

    async def released(self, space_id: str) -> None:
        """Called after the space was closed here (idle, handoff or shutdown): give the lease back."""


class SoleOwner:
    """Ownership for a single replica: it owns every space (until the router library is wired in)."""

    async def ensure_owner(self, space_id: str) -> None:
        return None

    async def released(self, space_id: str) -> None:
        return None
