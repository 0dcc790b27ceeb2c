"""The worker: consumes `GEN_JOBS`, runs the provider, stores the media and reports to the space's owner.

A job is acknowledged only once the owner acknowledged its outcome (`CompleteVariant` or
`FailVariant`) and, for a completion, the usage event is in `USAGE`. Every report carries
a request id made from the job's id, so a job delivered again after a crash repeats its
reports harmlessly: the owner answers a duplicate, JetStream drops a duplicate usage event.
While a job runs, the worker tells JetStream it is still working on it; when the owner or
the store cannot be reached the job is handed back (`nak`) with a growing delay.

Before the provider is called, the space's budget is checked with billing (see `budget`)
and the variant is confirmed to still wait for this attempt; while the provider works and
the bytes are stored, the space's events are watched (see `space_watch`), so a cancel
abandons the call at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

import nats.errors
from pydantic import TypeAdapter

from makefx_bus import Bus, Delivery, Redeliver, WorkQueueConsumer
from makefx_bus.tasks import cancel_and_wait
from makefx_contracts import FxError
from makefx_contracts.errors import InvalidState, NotFound, QuotaExceeded, ValidationFailed
from makefx_contracts.generation import GenerationJob, JobProgress, find_model
from makefx_contracts.media import MediaIngested
from makefx_contracts.rows import MediaKind, VariantStatus
from makefx_contracts.space import CompletedMedia, CompleteVariant, FailVariant, GetVariant, MarkVariantUploading
from makefx_contracts.subjects import GENERATION_JOBS, STREAM_GENERATION_JOBS
from makefx_contracts.usage import UsageKind, UsageRecorded
from makefx_generation.budget import BudgetGate
from makefx_generation.media import MediaUploader
from makefx_generation.providers import Generated, ProviderRejected, Providers, ProviderUnavailable, Reference
from makefx_generation.references import ReferenceReader, reference_ids
from makefx_generation.settings import GenerationSettings
from makefx_generation.space_watch import SpaceWatch
from makefx_router import SpaceRouter

log = logging.getLogger(__name__)

T = TypeVar("T")

_JOB: TypeAdapter[GenerationJob] = TypeAdapter(GenerationJob)
_USAGE_KIND = {
    MediaKind.IMAGE: UsageKind.GENERATION_IMAGE,
    MediaKind.AUDIO: UsageKind.GENERATION_AUDIO,
    MediaKind.VIDEO: UsageKind.GENERATION_VIDEO,
}
_STOPPED = (InvalidState, NotFound)
"""The owner's answer when the variant is no longer this attempt's to finish: cancelled, deleted, retried."""


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def usage_of(job: GenerationJob, generated: Generated, at: int) -> UsageRecorded:
    """One usage event per completed attempt; its id is the job's (`<variantId>:<attempt>`)."""
    model = find_model(str(job.recipe.get("model", "")))
    unit = model.unit if model is not None else "image"
    quantity = 1.0 if unit == "image" else round(generated.duration_seconds or 0.0, 3)
    return UsageRecorded(
        id=job.id,
        user_id=job.actor.user_id,
        space_id=job.space_id,
        kind=_USAGE_KIND[job.media_kind],
        quantity=quantity,
        unit=unit,
        credits=quantity * (model.cost_units if model is not None else 0),
        model=generated.model,
        provider=generated.provider,
        at=at,
    )


_ENDED: Any = object()
"""What `_unless` answers when the attempt ended elsewhere before the work finished."""


async def _unless(ended: asyncio.Event, work: Awaitable[T]) -> T | Any:
    """`work`'s result, or `_ENDED` (with `work` cancelled) as soon as `ended` is set."""
    task = asyncio.ensure_future(work)
    if ended.is_set():
        task.cancel()
    waiter = asyncio.ensure_future(ended.wait())
    try:
        await asyncio.wait((task, waiter), return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        await cancel_and_wait(task)
    return _ENDED if task.cancelled() else task.result()


def _side_task(work: Awaitable[T]) -> asyncio.Future[T]:
    """A task beside the job's own path, which may drop it unawaited: its exception is marked seen, never lost."""
    task = asyncio.ensure_future(work)
    task.add_done_callback(lambda done: done.cancelled() or done.exception())
    return task


async def _no_references() -> list[Reference]:
    return []


class _Timeline:
    """Where one job's time went, phase by phase (logged at DEBUG: `MAKEFX_LOG_LEVEL=DEBUG`)."""

    def __init__(self) -> None:
        self._last = time.perf_counter()
        self._phases: list[tuple[str, float]] = []

    def mark(self, phase: str) -> None:
        now = time.perf_counter()
        self._phases.append((phase, now - self._last))
        self._last = now

    def __str__(self) -> str:
        return " ".join(f"{phase}={seconds * 1000:.1f}ms" for phase, seconds in self._phases)


class JobWorker:
    def __init__(
        self,
        bus: Bus,
        router: SpaceRouter,
        providers: Providers,
        uploader: MediaUploader,
        settings: GenerationSettings,
        *,
        references: ReferenceReader,
        budget: BudgetGate,
        watch: SpaceWatch,
    ) -> None:
        self.bus = bus
        self.router = router
        self.providers = providers
        self.uploader = uploader
        self.settings = settings
        self.references = references
        self.budget = budget
        self.watch = watch
        self.consumer = WorkQueueConsumer(
            bus,
            self.on_job,
            contract=_JOB,
            stream=STREAM_GENERATION_JOBS,
            subject=GENERATION_JOBS.wildcard,
            durable=settings.jobs_durable,
            concurrency=settings.jobs_concurrency,
            ack_wait_seconds=settings.jobs_ack_wait_seconds,
            max_deliver=settings.jobs_max_deliver,
            backoff_seconds=settings.jobs_backoff_seconds,
            what="generation job",
        )

    # -- consuming ----------------------------------------------------------------------

    async def start(self) -> None:
        await self.consumer.start()

    async def stop(self) -> None:
        # Jobs in flight are left unacknowledged: JetStream redelivers them to another worker.
        await self.consumer.stop()

    async def on_job(self, job: GenerationJob, delivery: Delivery) -> None:
        await self.run(job, last_delivery=delivery.is_last)

    # -- one job --------------------------------------------------------------------------

    async def run(self, job: GenerationJob, *, last_delivery: bool = False) -> None:
        """Run one attempt to its reported end; raises `Redeliver` when it should be delivered again.

        Until the completion is reported the attempt races its space's events: a cancel, a
        retry elsewhere or a delete abandons the provider call or the upload at once, and
        nothing is stored, reported or metered. Once `CompleteVariant` is sent, it runs to the end.
        """
        timeline = _Timeline()
        try:
            async with self.watch.attempt(job) as ended:
                stored = await _unless(ended, self._generate_and_store(job, timeline))
            if stored is _ENDED:
                log.info("job %s ended elsewhere (cancelled, retried or deleted): abandoned", job.id)
                return
            if stored is None:
                return
            generated, ingested = stored
            try:
                await self.router.request(job.space_id, self._complete(job, generated, ingested))
            except _STOPPED as stopped:
                log.info("job %s finished but the variant moved on: %s", job.id, stopped)
                return
            timeline.mark("complete")
            usage = usage_of(job, generated, _now_ms())
            await self.bus.persist(usage, msg_id=usage.id)
            timeline.mark("usage")
            log.debug("job %s done: %s", job.id, timeline)
        except (FxError, nats.errors.Error, TimeoutError, OSError) as error:
            if not last_delivery:
                raise Redeliver(f"job {job.id}: {type(error).__name__}: {error}") from error
            await self._fail(job, "Generation could not be completed; please retry.")
        except Exception:
            # A bug (ours or a provider SDK's): delivered again, and on the last delivery the
            # variant must not stay `processing` for ever.
            if not last_delivery:
                raise
            log.exception("job %s failed unexpectedly on its last delivery", job.id)
            await self._fail(job, "Generation failed unexpectedly; please retry.")

    async def _generate_and_store(
        self, job: GenerationJob, timeline: _Timeline
    ) -> tuple[Generated, MediaIngested] | None:
        """The provider's media, stored and ingested; None when the attempt ended with a report already made."""
        valid = self.settings.timeout(job.media_kind) + self.settings.ingest_timeout_seconds
        signing = _side_task(self.uploader.sign(job, valid_seconds=valid))
        try:
            generated = await self._generate(job, timeline)
            if generated is None:
                return None
            signed = await signing
        finally:
            signing.cancel()
        # Marking `uploading` and storing run side by side: neither waits for the other's round trip.
        marking = asyncio.ensure_future(
            self.router.request(
                job.space_id,
                MarkVariantUploading(**self._report(job, "uploading"), variant_id=job.variant_id, attempt=job.attempt),
            )
        )
        storing = _side_task(self.uploader.store(job, generated, signed))
        try:
            await marking
        except BaseException as error:
            storing.cancel()
            if isinstance(error, _STOPPED):
                log.info("job %s stopped before storing: %s", job.id, error)
                return None
            raise
        try:
            ingested = await storing
            timeline.mark("store")
        except ValidationFailed as refused:
            await self._fail(job, f"The provider returned a file that is not a valid {job.media_kind.value}.")
            log.warning("job %s: media refused: %s %s", job.id, refused, refused.details)
            return None
        return generated, ingested

    async def _generate(self, job: GenerationJob, timeline: _Timeline) -> Generated | None:
        """The provider's output, after the checks that must come first; None when the attempt was reported failed."""
        provider = self.providers.for_job(job)
        try:
            async with asyncio.timeout(self.settings.timeout(job.media_kind)):
                wants_references = provider.takes_references and bool(reference_ids(job))
                _, current, references = await asyncio.gather(
                    self.budget.check(job),
                    self._still_current(job),
                    self.references.read(job) if wants_references else _no_references(),
                )
                if not current:
                    log.info("job %s: its variant moved on before the provider was called", job.id)
                    return None
                timeline.mark("checks")
                generated = await provider.generate(job, functools.partial(self._progress, job), references)
                timeline.mark("provider")
                return generated
        except QuotaExceeded as refused:
            await self._fail(job, f"Not generated: {refused.message}.")
        except ProviderRejected as rejected:
            await self._fail(job, rejected.message)
        except ProviderUnavailable as unavailable:
            await self._fail(job, unavailable.message)
        except TimeoutError:
            seconds = self.settings.timeout(job.media_kind)
            await self._fail(job, f"The {job.media_kind.value} generation timed out after {seconds:g} seconds.")
        return None

    async def _still_current(self, job: GenerationJob) -> bool:
        """Whether the variant still waits for this attempt (a cancel may have come while the job was queued).

        `completed` or `uploading` by this attempt is still current: a delivery after a crash
        repeats its reports so the usage event is not lost.
        """
        try:
            detail = await self.router.request(
                job.space_id, GetVariant(space_id=job.space_id, variant_id=job.variant_id)
            )
        except NotFound:
            return False
        variant = detail.variant
        return variant.workflow_id == job.id and variant.status is not VariantStatus.FAILED

    async def _progress(self, job: GenerationJob, progress: float | None) -> None:
        """How far a long job is, to the space's sockets (core NATS: a lost one is replaced by the next)."""
        update = JobProgress(
            space_id=job.space_id,
            job_id=job.id,
            variant_id=job.variant_id,
            attempt=job.attempt,
            status=VariantStatus.PROCESSING,
            progress=progress,
        )
        with contextlib.suppress(nats.errors.Error, FxError):
            await self.bus.publish(update)

    def _report(self, job: GenerationJob, what: str) -> dict[str, Any]:
        return {"space_id": job.space_id, "request_id": f"{job.id}:{what}", "actor": job.actor}

    def _complete(self, job: GenerationJob, generated: Generated, ingested: MediaIngested) -> CompleteVariant:
        media = CompletedMedia(
            media_key=ingested.media_key,
            image_key=ingested.image_key,
            thumb_key=ingested.thumb_key,
            poster_key=ingested.poster_key,
            mime_type=ingested.mime_type,
            size_bytes=ingested.size_bytes,
            width=ingested.width,
            height=ingested.height,
            duration_ms=ingested.duration_ms,
        )
        shown = reference_ids(job)
        sent = shown if self.providers.for_job(job).takes_references else []
        provenance = {
            "operation": job.recipe.get("operation"),
            "prompt": job.recipe.get("prompt"),
            "referenceVariantIds": job.recipe.get("referenceVariantIds", []),
            "sourceVariantId": job.recipe.get("sourceVariantId"),
            # A provider that takes no references (Veo, ElevenLabs, Lyria, `local`) never saw them:
            # the lineage keeps them (the user chose them as inspiration), this says what was sent.
            "referencesSent": sent,
            "referencesNotSent": [variant_id for variant_id in shown if variant_id not in sent],
            "attempt": job.attempt,
        }
        metadata = {"provider": generated.provider, "model": generated.model, **generated.metadata}
        return CompleteVariant(
            **self._report(job, "complete"),
            variant_id=job.variant_id,
            attempt=job.attempt,
            media=media,
            provenance=provenance,
            provider_metadata=metadata,
        )

    async def _fail(self, job: GenerationJob, reason: str) -> None:
        command = FailVariant(
            **self._report(job, "fail"), variant_id=job.variant_id, attempt=job.attempt, error_message=reason[:2000]
        )
        try:
            await self.router.request(job.space_id, command)
        except _STOPPED as stopped:
            log.info("job %s failed but the variant moved on: %s", job.id, stopped)
