"""The provider port: one generation call, its result, and the two ways it can fail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from makefx_contracts.generation import GenerationJob
from makefx_contracts.rows import MediaKind


@dataclass(frozen=True)
class Generated:
    """A provider's output: the bytes and what the provider said about them."""

    data: bytes
    mime_type: str
    provider: str
    model: str
    metadata: dict[str, Any] = field(default_factory=dict)
    duration_seconds: float | None = None


@dataclass(frozen=True)
class Reference:
    """A reference variant's media, read from the store for a provider that sends references along."""

    variant_id: str
    data: bytes
    mime_type: str


class ProviderRejected(Exception):
    """The provider refused the request for good (safety block, invalid request): the variant fails at once.

    `message` is shown to the user as it is.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProviderUnavailable(Exception):
    """The provider kept failing (429, 5xx, malformed answers) after the retries of this attempt."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


ProgressReport = Callable[[float | None], Awaitable[None]]
"""Told how far a long job is (0 to 1, or None when the provider does not say), while it runs."""


async def no_progress(progress: float | None) -> None:
    return None


class Provider(Protocol):
    name: str
    takes_references: ClassVar[bool]
    """Whether `generate` uses the recipe's reference images (the worker reads them from the store only then)."""

    async def generate(
        self, job: GenerationJob, report: ProgressReport = no_progress, references: Sequence[Reference] = ()
    ) -> Generated:
        """Make the job's media; raises `ProviderRejected` or `ProviderUnavailable`."""


def option(job: GenerationJob, name: str, default: Any) -> Any:
    return job.recipe.get("options", {}).get(name, default)


def media_kind(job: GenerationJob) -> MediaKind:
    return job.media_kind
