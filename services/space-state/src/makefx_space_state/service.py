"""Use cases of the space-state service: apply a command, answer the queries, snapshot, restore and replay.

A command runs as one transaction in the space's store: it checks the rules (`domain`),
writes the rows, appends its events with the next seqs and records its request id with
the reply. After the commit its events are published to JetStream, in seq order, while
the space's lock is still held, so events of one space reach the stream in order (all of a
command's events are sent before their acks are awaited: one round trip, not one each). Then a
command's follow-up is queued: a generation's job on `GEN_JOBS` (also for an approved tool
call that generates), a chat message's turn on `CHAT`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from pydantic import TypeAdapter

from makefx_contracts.chat import ChatTurn, reply_id
from makefx_contracts.errors import InvalidState, Moved, Unavailable, ValidationFailed
from makefx_contracts.events import (
    ApprovalCreated,
    ApprovalUpdated,
    AssetCreated,
    AssetDeleted,
    AssetForked,
    AssetUpdated,
    ChatCleared,
    ChatMessagePosted,
    LineageCreated,
    LineageSevered,
    SpaceEvent,
    VariantCreated,
    VariantDeleted,
    VariantUpdated,
)
from makefx_contracts.identity import Role
from makefx_contracts.rows import LineageRelation, VariantRow, VariantStatus
from makefx_contracts.space import (
    Actor,
    Applied,
    ApprovalList,
    ApproveAction,
    AssetDetail,
    ChatContext,
    ChatHistory,
    CreateAsset,
    DeleteAsset,
    DeleteVariant,
    EventsSince,
    FailVariant,
    ForkAsset,
    GetAsset,
    GetChatContext,
    GetChatHistory,
    GetEventsSince,
    GetSpaceState,
    GetVariant,
    ListApprovals,
    MarkVariantProcessing,
    Position,
    SendChat,
    SetActiveVariant,
    SeverLineage,
    SpaceCommand,
    SpaceSnapshot,
    SpaceStatePart,
    StarVariant,
    UpdateAsset,
    VariantDetail,
)
from makefx_space_state import chat, domain, generation, uploads
from makefx_space_state.errors import PublishFailed, SpaceClosing
from makefx_space_state.ports import (
    EventPublisher,
    JobPublisher,
    SnapshotFile,
    SpaceFiles,
    SpaceTx,
    StoredEvent,
    TurnPublisher,
)
from makefx_space_state.spaces import OpenSpace, OpenSpaces
from makefx_space_state.state_parts import StateParts

log = logging.getLogger(__name__)

E = TypeVar("E", bound=SpaceEvent)

EVENT = TypeAdapter(SpaceEvent)

_FORK_OFFSET = 40.0
"""A fork lands beside its source on the canvas, not on top of it."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_id() -> str:
    return uuid.uuid4().hex


# -- commands, inside their transaction ----------------------------------------------------


class _Emitter:
    """The events of one command: consecutive seqs after the space's last, one commit time, one actor."""

    def __init__(self, tx: SpaceTx, command: SpaceCommand, at: int) -> None:
        self.events: list[SpaceEvent] = []
        self._base = {
            "space_id": tx.space_id,
            "at": at,
            "actor_id": command.actor.user_id,
            "request_id": command.request_id,
        }
        self._seq = tx.last_seq()

    def emit(self, event_type: type[E], **fields: Any) -> E:
        self._seq += 1
        event = event_type(seq=self._seq, **self._base, **fields)
        self.events.append(event)
        return event

    def mark(self) -> int:
        """How many events so far: `rewind` to it drops those emitted since (their writes were rolled back)."""
        return len(self.events)

    def rewind(self, mark: int) -> None:
        self._seq -= len(self.events) - mark
        del self.events[mark:]


NewId = Callable[[], str]


def _create_asset(tx: SpaceTx, command: CreateAsset, out: _Emitter, now: int, ids: NewId) -> None:
    domain.require_editor(command.actor, "creating an asset")
    if command.parent_asset_id is not None:
        domain.check_parent(None, tx.asset(command.parent_asset_id), command.parent_asset_id, ())
    asset = domain.new_asset(
        asset_id=ids(),
        name=command.name,
        asset_type=command.asset_type,
        media_kind=command.media_kind,
        parent_asset_id=command.parent_asset_id,
        position=command.position,
        actor=command.actor,
        now=now,
    )
    tx.put_asset(asset)
    out.emit(AssetCreated, asset=asset)


def _update_asset(tx: SpaceTx, command: UpdateAsset, out: _Emitter, now: int, ids: NewId) -> None:
    domain.require_editor(command.actor, "updating an asset")
    asset = domain.live_asset(tx.asset(command.asset_id), command.asset_id)
    parent_id = command.changes.parent_asset_id
    if "parent_asset_id" in command.changes.model_fields_set and parent_id is not None:
        domain.check_parent(asset.id, tx.asset(parent_id), parent_id, tx.ancestors(parent_id))
    updated = domain.changed_asset(asset, command.changes, now)
    tx.put_asset(updated)
    out.emit(AssetUpdated, asset=updated)


def _delete_asset(tx: SpaceTx, command: DeleteAsset, out: _Emitter, now: int, ids: NewId) -> None:
    domain.require_owner(command.actor, "deleting an asset")
    asset = domain.live_asset(tx.asset(command.asset_id), command.asset_id)
    # References move away before what they point at disappears, in the events as in the rows.
    for child in tx.children(asset.id):
        detached = domain.detached_child(child, now)
        tx.put_asset(detached)
        out.emit(AssetUpdated, asset=detached)
    tx.soft_delete_asset(asset.id, now)
    out.emit(AssetDeleted, asset_id=asset.id)


def _set_active_variant(tx: SpaceTx, command: SetActiveVariant, out: _Emitter, now: int, ids: NewId) -> None:
    domain.require_editor(command.actor, "choosing the active variant")
    asset = domain.live_asset(tx.asset(command.asset_id), command.asset_id)
    variant = domain.live_variant(tx.variant(command.variant_id), asset, command.variant_id)
    domain.require_variant_of(asset, variant)
    domain.require_completed(variant, "making a variant active")
    if asset.active_variant_id == variant.id:
        return
    updated = domain.with_active_variant(asset, variant.id, now)
    tx.put_asset(updated)
    out.emit(AssetUpdated, asset=updated)


def _fork_asset(tx: SpaceTx, command: ForkAsset, out: _Emitter, now: int, ids: NewId) -> None:
    domain.require_editor(command.actor, "forking a variant")
    source = tx.variant(command.source_variant_id)
    source_asset = tx.asset(source.asset_id) if source is not None else None
    source = domain.live_variant(source, source_asset, command.source_variant_id)
    assert source_asset is not None
    domain.require_completed(source, "forking")
    if command.parent_asset_id is not None:
        domain.check_parent(None, tx.asset(command.parent_asset_id), command.parent_asset_id, ())
    asset_id, variant_id = ids(), ids()
    asset = domain.new_asset(
        asset_id=asset_id,
        name=command.name,
        asset_type=command.asset_type,
        media_kind=source.media_kind,
        parent_asset_id=command.parent_asset_id,
        position=Position(x=source_asset.position_x + _FORK_OFFSET, y=source_asset.position_y + _FORK_OFFSET),
        actor=command.actor,
        now=now,
        active_variant_id=variant_id,
    )
    variant = domain.forked_variant(source, variant_id=variant_id, asset_id=asset_id, actor=command.actor, now=now)
    lineage = domain.new_lineage(
        lineage_id=ids(),
        parent_variant_id=source.id,
        child_variant_id=variant_id,
        relation=LineageRelation.FORKED,
        now=now,
    )
    tx.put_asset(asset)
    tx.put_variant(variant)
    tx.insert_lineage(lineage)
    out.emit(AssetForked, asset=asset, variant=variant, lineage=lineage)


def _star_variant(tx: SpaceTx, command: StarVariant, out: _Emitter, now: int, ids: NewId) -> None:
    domain.require_editor(command.actor, "starring a variant")
    variant = tx.variant(command.variant_id)
    asset = tx.asset(variant.asset_id) if variant is not None else None
    variant = domain.live_variant(variant, asset, command.variant_id)
    starred = domain.starred_variant(variant, command.starred, now)
    if starred is None:
        return
    tx.put_variant(starred)
    out.emit(VariantUpdated, variant=starred)


def _delete_variant(tx: SpaceTx, command: DeleteVariant, out: _Emitter, now: int, ids: NewId) -> None:
    domain.require_owner(command.actor, "deleting a variant")
    variant = tx.variant(command.variant_id)
    asset = tx.asset(variant.asset_id) if variant is not None else None
    variant = domain.live_variant(variant, asset, command.variant_id)
    assert asset is not None
    tx.delete_variant(variant.id)
    if asset.active_variant_id == variant.id:
        successor = domain.next_active_variant(tx.variants_of(asset.id))
        updated = domain.with_active_variant(asset, successor.id if successor else None, now)
        tx.put_asset(updated)
        out.emit(AssetUpdated, asset=updated)
    out.emit(VariantDeleted, variant_id=variant.id)


def _sever_lineage(tx: SpaceTx, command: SeverLineage, out: _Emitter, now: int, ids: NewId) -> None:
    domain.require_editor(command.actor, "severing lineage")
    lineage = domain.existing_lineage(tx.lineage(command.lineage_id), command.lineage_id)
    domain.require_not_severed(lineage)
    tx.sever_lineage(lineage.id)
    out.emit(LineageSevered, lineage_id=lineage.id)


def _run(tx: SpaceTx, command: SpaceCommand, out: _Emitter, now: int, ids: NewId) -> None:
    """Check and write one command's changes inside the current transaction, emitting its events to `out`."""
    try:
        run = _COMMANDS[type(command)]
    except KeyError:
        raise ValidationFailed(f"{command.type} is not a space command", details={"type": command.type}) from None
    run(tx, command, out, now, ids)


_COMMANDS: dict[type[SpaceCommand], Callable[..., None]] = {
    CreateAsset: _create_asset,
    UpdateAsset: _update_asset,
    DeleteAsset: _delete_asset,
    SetActiveVariant: _set_active_variant,
    ForkAsset: _fork_asset,
    StarVariant: _star_variant,
    DeleteVariant: _delete_variant,
    SeverLineage: _sever_lineage,
    **generation.COMMANDS,
    **uploads.COMMANDS,
    # An approved tool call runs through this same table, as the approver, in the approval's transaction.
    **chat.commands(_run),
}

_ENQUEUING = (*generation.ENQUEUING, ApproveAction)
"""Commands after which the owner publishes the job of a `pending` variant they made (an approval may run one)."""


def apply_in_transaction(tx: SpaceTx, *, command: SpaceCommand, now: int, ids: NewId) -> Applied:
    """Apply one command inside its transaction; a request id already applied returns its first reply."""
    recorded = tx.applied_reply(command.request_id)
    if recorded is not None:
        return Applied.model_validate_json(recorded).model_copy(update={"duplicate": True})
    out = _Emitter(tx, command, now)
    _run(tx, command, out, now, ids)
    stored = tx.append_events(out.events)
    applied = Applied(space_id=tx.space_id, seq=tx.last_seq(), events=out.events)
    seqs = (out.events[0].seq, out.events[-1].seq) if out.events else (None, None)
    tx.record_request(command.request_id, *seqs, _applied_json(applied, stored), now)
    return applied


def _applied_json(applied: Applied, stored: Sequence[StoredEvent]) -> str:
    """`applied.model_dump_json()`, reusing the events' JSON just written to the log instead of encoding it again."""
    events = ",".join(event.payload for event in stored)
    return (
        f'{{"type":{json.dumps(applied.type)},"spaceId":{json.dumps(applied.space_id)},"seq":{applied.seq},'
        f'"events":[{events}],"duplicate":false}}'
    )


# -- replay, inside its transaction --------------------------------------------------------


def _replay_rows(tx: SpaceTx, event: SpaceEvent) -> None:
    """Apply an event's effect on the rows: each carries the full new state of what it touches."""
    match event:
        case AssetCreated(asset=asset) | AssetUpdated(asset=asset):
            tx.put_asset(asset)
        case AssetDeleted():
            tx.soft_delete_asset(event.asset_id, event.at)
        case AssetForked():
            tx.put_asset(event.asset)
            tx.put_variant(event.variant)
            tx.insert_lineage(event.lineage)
        case VariantCreated(variant=variant) | VariantUpdated(variant=variant):
            tx.put_variant(variant)
        case VariantDeleted():
            tx.delete_variant(event.variant_id)
        case LineageCreated():
            tx.insert_lineage(event.lineage)
        case LineageSevered():
            tx.sever_lineage(event.lineage_id)
        case ChatMessagePosted(message=message):
            tx.put_chat_message(message)
        case ChatCleared():
            tx.clear_chat()
        case ApprovalCreated(approval=approval) | ApprovalUpdated(approval=approval):
            tx.put_approval(approval)


def replay_in_transaction(tx: SpaceTx, *, events: Sequence[SpaceEvent]) -> int:
    """Apply events after the space's seq, in order; those at or below it are skipped (idempotent by seq)."""
    for event in events:
        if event.space_id != tx.space_id:
            raise ValidationFailed(
                f"event {event.seq} belongs to space {event.space_id}, not {tx.space_id}",
                details={"spaceId": tx.space_id, "eventSpaceId": event.space_id},
            )
        if event.seq <= tx.last_seq():
            continue
        if event.seq != tx.last_seq() + 1:
            raise InvalidState(
                f"cannot replay event {event.seq}: the space is at {tx.last_seq()}, events are missing between",
                details={"spaceId": tx.space_id, "seq": tx.last_seq(), "next": event.seq},
            )
        _replay_rows(tx, event)
        tx.append_events([event])
        if event.request_id is not None:
            _remember_request(tx, event.request_id, event)
    return tx.last_seq()


def _remember_request(tx: SpaceTx, request_id: str, event: SpaceEvent) -> None:
    # Rebuild what the original owner recorded, so a command retried after a handoff stays a duplicate.
    recorded = tx.applied_reply(request_id)
    if recorded is None:
        applied = Applied(space_id=tx.space_id, seq=event.seq, events=[event])
        tx.record_request(request_id, event.seq, event.seq, applied.model_dump_json(), event.at)
        return
    applied = Applied.model_validate_json(recorded)
    if applied.seq == event.seq - 1:
        applied = applied.model_copy(update={"seq": event.seq, "events": [*applied.events, event]})
        tx.record_request(request_id, None, event.seq, applied.model_dump_json(), event.at)


# -- the service ---------------------------------------------------------------------------


class SpaceService:
    """Commands and queries on the spaces this replica owns, and the handoff operations."""

    def __init__(
        self,
        spaces: OpenSpaces,
        publisher: EventPublisher,
        files: SpaceFiles,
        *,
        keep_events: int = 0,
        keep_request_ids_ms: int = 7 * 24 * 3600 * 1000,
        clock: Callable[[], int] = now_ms,
        ids: NewId = new_id,
        jobs: JobPublisher | None = None,
        turns: TurnPublisher | None = None,
    ) -> None:
        self.spaces = spaces
        self.publisher = publisher
        self.jobs = jobs
        self.turns = turns
        # Jobs committed but refused by JetStream, with who asked: the republisher's hint of where to look.
        # The durable record is the variant itself, `pending` until its job is queued; a space opening
        # queues the jobs of all its `pending` variants, so a crash loses none (`_requeue`).
        self._unqueued: dict[tuple[str, str], Actor] = {}
        self.files = files
        self.keep_events = keep_events
        self.keep_request_ids_ms = keep_request_ids_ms
        self._clock = clock
        self._ids = ids
        self.parts = StateParts()

    # -- commands ------------------------------------------------------------------------

    async def apply(self, command: SpaceCommand) -> Applied:
        """Apply a mutation: one transaction, then its events published in order."""
        async with self.spaces.use(command.space_id) as space:
            await self._ready(space)
            async with space.lock:
                if space.store.published_seq < space.store.last_seq:
                    await self._publish_pending(space)
                work = functools.partial(apply_in_transaction, command=command, now=self._clock(), ids=self._ids)
                applied = await space.store.write(work)
                if applied.events and not applied.duplicate:
                    await self._publish(space, applied.events)
                if space.store.published_seq < applied.seq:
                    # Committed here, not yet in SPACE_EVENTS: answering now would acknowledge a write
                    # another replica could not recover if this one died. The client's retry (same
                    # request id) is answered as a duplicate once the events are published.
                    raise Unavailable(
                        "the change is saved but not yet replicated: retry with the same requestId",
                        details={"spaceId": command.space_id, "seq": applied.seq},
                    )
                if self.jobs is not None and isinstance(command, _ENQUEUING):
                    applied = await self._enqueue(space, command, applied)
                if self.turns is not None and isinstance(command, SendChat):
                    await self._queue_turn(space, command, applied)
                return applied

    async def _queue_turn(self, space: OpenSpace, command: SendChat, applied: Applied) -> None:
        """After the commit: queue the message's `ChatTurn` on `CHAT` (`Nats-Msg-Id` = the message id).

        Runs for a duplicate request too, unless the message was answered or cleared since:
        JetStream drops a turn it already holds, so a client retrying after a refused publish
        (it heard `UNAVAILABLE`) gets its message answered, once.
        """
        assert self.turns is not None
        posted = next((event.message for event in applied.events if isinstance(event, ChatMessagePosted)), None)
        if posted is None:
            return
        if applied.duplicate:

            def settled(tx: SpaceTx) -> bool:
                return tx.chat_message(posted.id) is None or tx.chat_message(reply_id(posted.id)) is not None

            if await space.store.write(settled):
                return
        turn = ChatTurn(
            space_id=space.space_id,
            message_id=posted.id,
            mode=posted.mode or command.mode,
            actor=command.actor,
            at=posted.created_at,
        )
        try:
            await self.turns.publish_turn(turn)
        except PublishFailed as error:
            raise Unavailable(
                "your message is saved but the bot was not asked yet: retry with the same requestId",
                details={"messageId": posted.id, "reason": str(error)},
            ) from error

    async def _enqueue(self, space: OpenSpace, command: SpaceCommand, applied: Applied) -> Applied:
        """After the commit: publish the placeholder's job (`Nats-Msg-Id = <variantId>:<attempt>`), then mark it
        `processing`.

        Runs for a duplicate request too, while its variant still waits: JetStream drops a
        job it already holds, so a client retrying after a lost publish gets its job queued.
        When the publish fails the variant stays `pending`, the caller hears `UNAVAILABLE`,
        and the republisher queues the job on its next round.
        """
        assert self.jobs is not None
        pending = [
            event.variant
            for event in applied.events
            if isinstance(event, VariantCreated | VariantUpdated) and event.variant.status is VariantStatus.PENDING
        ]
        if not pending:
            return applied
        variant = pending[-1]
        if applied.duplicate:
            current = await space.store.write(lambda tx: tx.variant(variant.id))
            if (
                current is None
                or current.status is not VariantStatus.PENDING
                or current.workflow_id != variant.workflow_id
            ):
                return applied  # already queued and running, finished, retried or deleted
        try:
            marked = await self._queue_job(space, command.actor, variant)
        except PublishFailed as error:
            self._unqueued[(space.space_id, variant.id)] = command.actor
            raise Unavailable(
                f"the generation of variant {variant.id} is saved but not yet queued; it will be queued shortly",
                details={"variantId": variant.id, "reason": str(error)},
            ) from error
        if applied.duplicate:
            return applied
        events = applied.events + marked.events
        return applied.model_copy(update={"seq": max(applied.seq, marked.seq), "events": events})

    async def _queue_job(self, space: OpenSpace, actor: Actor, variant: VariantRow) -> Applied:
        """Publish the variant's current job, then mark it processing (a no-op once it moved on); the marking."""
        assert self.jobs is not None
        job = generation.job_for(space.space_id, variant, actor)
        await self.jobs.publish_job(job)
        self._unqueued.pop((space.space_id, variant.id), None)
        follow = MarkVariantProcessing(
            space_id=space.space_id,
            request_id=f"{job.id}:processing",
            actor=actor,
            variant_id=variant.id,
            attempt=job.attempt,
        )
        work = functools.partial(apply_in_transaction, command=follow, now=self._clock(), ids=self._ids)
        marked = await space.store.write(work)
        if marked.events and not marked.duplicate:
            await self._publish(space, marked.events)
        return marked

    async def _requeue(self, space: OpenSpace) -> int:
        """Queue the jobs of every `pending` variant of the space; how many were queued.

        A variant is `pending` from its commit until its job is in `GEN_JOBS` (then it is marked
        `processing`), so the rows are the durable list of jobs not known to be queued: after a
        refused publish, and after a crash between a commit and its job, which this runs for
        when the space opens. A job queued already but not yet marked is dropped by JetStream's
        deduplication (`<variantId>:<attempt>`, an hour). The job runs for whoever asked when
        this replica still knows it, else for the variant's creator.
        """
        if self.jobs is None:
            return 0
        space_id = space.space_id
        waiting = await space.store.write(lambda tx: tx.pending_variants())
        for key in [key for key in self._unqueued if key[0] == space_id]:
            if all(variant.id != key[1] for variant in waiting):
                self._unqueued.pop(key, None)  # cancelled, deleted or queued meanwhile
        creator = {variant.id: Actor(user_id=variant.created_by, role=Role.EDITOR) for variant in waiting}
        if space.store.published_seq < space.store.last_seq:
            # Their events are not all in SPACE_EVENTS yet, and a job must not name a variant another
            # replica could not know: they wait for the next round, after the events.
            for variant in waiting:
                self._unqueued.setdefault((space_id, variant.id), creator[variant.id])
            return 0
        queued = 0
        for variant in waiting:
            actor = self._unqueued.get((space_id, variant.id)) or creator[variant.id]
            try:
                await self._queue_job(space, actor, variant)
            except PublishFailed as error:
                self._unqueued[(space_id, variant.id)] = actor
                log.warning("space %s: the job of variant %s is still not queued: %s", space_id, variant.id, error)
                return queued
            queued += 1
        if queued:
            log.info("space %s: queued %d jobs of pending variants", space_id, queued)
        return queued

    async def expire_uploads(self, max_age_ms: int) -> list[tuple[str, str]]:
        """Fail the uploads of the open spaces still `uploading` after `max_age_ms`; the (space, variant) failed."""
        cutoff = self._clock() - max_age_ms
        failed: list[tuple[str, str]] = []
        for space_id in self.spaces.open_space_ids:
            with contextlib.suppress(SpaceClosing, Moved):
                async with self.spaces.use(space_id) as space:
                    await self._ready(space)
                    _, variants, _, _ = await space.store.state()
                for variant in uploads.expired_uploads(variants, cutoff):
                    await self.apply(
                        FailVariant(
                            space_id=space_id,
                            request_id=f"{variant.id}:expired",
                            actor=Actor(user_id=variant.created_by, role=Role.OWNER),
                            variant_id=variant.id,
                            attempt=1,
                            error_message=uploads.NEVER_FINISHED,
                        )
                    )
                    failed.append((space_id, variant.id))
        return failed

    # -- queries -------------------------------------------------------------------------

    async def get_state(self, query: GetSpaceState) -> SpaceSnapshot:
        async with self.spaces.use(query.space_id) as space:
            await self._ready(space)
            assets, variants, lineage, seq = await space.store.state()
        return SpaceSnapshot(space_id=query.space_id, seq=seq, assets=assets, variants=variants, lineage=lineage)

    async def state_part(self, query: GetSpaceState) -> SpaceStatePart:
        """A part of the full state: part 0 reads it afresh, later parts come from that same read."""
        if query.snapshot_id is not None:
            async with self.spaces.use(query.space_id):
                return self.parts.part(query.space_id, query.snapshot_id, query.part)
        async with self.spaces.use(query.space_id) as space:
            await self._ready(space)
            seq, body = await space.store.state_body()
        return self.parts.first(query.space_id, seq, body)

    async def state_json(self, space_id: str) -> bytes:
        """`get_state`'s reply as wire JSON, built by SQLite: for replies too big to build as models."""
        async with self.spaces.use(space_id) as space:
            await self._ready(space)
            return await space.store.state_json()

    async def get_events_since(self, query: GetEventsSince) -> EventsSince:
        async with self.spaces.use(query.space_id) as space:
            await self._ready(space)
            stored, first, last = await space.store.events_since(query.since_seq, query.limit)
        # Complete when the log still holds the event right after `since_seq`. A `since_seq`
        # beyond the space's seq comes from another history (a restored space): resync fully.
        complete = first - 1 <= query.since_seq <= last
        events = [EVENT.validate_json(event.payload) for event in stored] if complete else []
        return EventsSince(space_id=query.space_id, seq=last, complete=complete, events=events)

    async def get_asset(self, query: GetAsset) -> AssetDetail:
        async with self.spaces.use(query.space_id) as space:
            await self._ready(space)
            asset, variants, lineage, seq = await space.store.asset_detail(query.asset_id)
        asset = domain.live_asset(asset, query.asset_id)
        return AssetDetail(space_id=query.space_id, seq=seq, asset=asset, variants=variants, lineage=lineage)

    async def get_chat_history(self, query: GetChatHistory) -> ChatHistory:
        work = functools.partial(chat.history, limit=query.limit, before=query.before)
        async with self.spaces.use(query.space_id) as space:
            await self._ready(space)
            messages = await space.store.write(work)
        return ChatHistory(space_id=query.space_id, messages=messages)

    async def list_approvals(self, query: ListApprovals) -> ApprovalList:
        async with self.spaces.use(query.space_id) as space:
            await self._ready(space)
            approvals = await space.store.write(functools.partial(chat.approval_list, status=query.status))
        return ApprovalList(space_id=query.space_id, approvals=approvals)

    async def get_chat_context(self, query: GetChatContext) -> ChatContext:
        async with self.spaces.use(query.space_id) as space:
            await self._ready(space)
            return await space.store.write(functools.partial(chat.context, query=query))

    async def get_variant(self, query: GetVariant) -> VariantDetail:
        def read(tx: SpaceTx) -> VariantRow:
            variant = tx.variant(query.variant_id)
            asset = tx.asset(variant.asset_id) if variant is not None else None
            return domain.live_variant(variant, asset, query.variant_id)

        async with self.spaces.use(query.space_id) as space:
            await self._ready(space)
            variant = await space.store.write(read)
        return VariantDetail(space_id=query.space_id, variant=variant)

    # -- handoff (called by the lease logic, which has already decided ownership) ----------

    async def local_seq(self, space_id: str) -> int:
        """The last seq of this replica's own copy of the space (0 for a copy it never had)."""
        async with self.spaces.use(space_id, owned=True) as space:
            return space.store.last_seq

    async def snapshot(self, space_id: str) -> SnapshotFile:
        """A consistent copy of the space's database (SQLite online backup) and the seq it holds."""
        async with self.spaces.use(space_id, owned=True) as space, space.lock:
            await space.store.save_published_seq()
            path = self.files.snapshot_path(space_id, space.store.last_seq)
            seq = await space.store.backup(path)
        return SnapshotFile(space_id=space_id, seq=seq, path=path)

    async def restore(self, space_id: str, snapshot: SnapshotFile) -> int:
        """Replace this replica's copy of the space with `snapshot`; returns its seq. Replay the stream after it."""
        if snapshot.space_id != space_id:
            raise ValidationFailed(
                f"snapshot of {snapshot.space_id} cannot restore {space_id}", details={"spaceId": space_id}
            )
        async with self.spaces.exclusive(space_id):
            return await self.files.restore(space_id, snapshot.path)

    async def replay(self, space_id: str, events: Iterable[SpaceEvent]) -> int:
        """Apply events from `SPACE_EVENTS` after the space's seq (idempotent by seq); returns the new seq."""
        batch = list(events)
        async with self.spaces.use(space_id, owned=True) as space, space.lock:
            seq = await space.store.write(functools.partial(replay_in_transaction, events=batch), in_thread=True)
            if batch:
                # They came from the stream: nothing to publish again.
                space.store.mark_published(min(seq, max(event.seq for event in batch)))
                await space.store.save_published_seq()
            return seq

    # -- publication ---------------------------------------------------------------------

    async def publish_pending(self) -> int:
        """Publish events committed but not yet in JetStream, then queue the jobs it refused, for every open
        space; returns how many events."""
        published = 0
        for space_id in self.spaces.open_space_ids:
            space = self.spaces.get(space_id)
            waiting = any(key[0] == space_id for key in self._unqueued)
            if space is None or (space.store.published_seq >= space.store.last_seq and not waiting):
                continue
            with contextlib.suppress(SpaceClosing, Moved):  # closing, or no longer ours
                async with self.spaces.use(space_id) as space, space.lock:
                    published += await self._publish_pending(space)
                    if waiting:
                        await self._requeue(space)
        return published

    async def _publish_pending(self, space: OpenSpace) -> int:
        """Publish, in order, the committed events JetStream has not acknowledged (after a failure or a crash)."""
        store = space.store
        count = 0
        while store.published_seq < store.last_seq:
            before = store.published_seq
            stored, first, _ = await store.events_since(before, 500)
            if store.published_seq < first - 1:
                log.error(
                    "space %s: events %d..%d were trimmed before being published",
                    space.space_id,
                    store.published_seq + 1,
                    first - 1,
                )
                store.mark_published(first - 1)
            if not stored:
                break
            events = [EVENT.validate_json(event.payload) for event in stored]
            try:
                await self.publisher.publish_all(events)
            except PublishFailed as error:
                if error.stored:
                    store.mark_published(events[error.stored - 1].seq)
                    count += error.stored
                log.warning(
                    "space %s: republishing from seq %d failed: %s", space.space_id, store.published_seq + 1, error
                )
                break
            store.mark_published(events[-1].seq)
            count += len(events)
            if store.published_seq == before:
                break  # no progress: never spin
        if count:
            log.info("space %s: republished %d events up to seq %d", space.space_id, count, store.published_seq)
        return count

    async def _publish(self, space: OpenSpace, events: Sequence[SpaceEvent]) -> None:
        """Publish a command's events, all sent before any ack is awaited (see `BusEventPublisher`)."""
        store = space.store
        if store.published_seq != events[0].seq - 1:
            return  # an older event is still unpublished: order first, these follow on the next try
        try:
            await self.publisher.publish_all(events)
        except PublishFailed as error:
            if error.stored:
                store.mark_published(events[error.stored - 1].seq)
            log.warning(
                "space %s: event %d is committed but not yet in JetStream (%s); it will be republished",
                space.space_id,
                store.published_seq + 1,
                error,
            )
            return
        store.mark_published(events[-1].seq)

    # -- opening -------------------------------------------------------------------------

    async def _ready(self, space: OpenSpace) -> None:
        if not space.caught_up:
            await self._on_open(space)

    async def _on_open(self, space: OpenSpace) -> None:
        async with space.lock:
            if space.caught_up:
                return
            await space.store.trim(
                keep_events=self.keep_events, requests_before=self._clock() - self.keep_request_ids_ms
            )
            await self._publish_pending(space)
            await self._requeue(space)
            space.caught_up = True
