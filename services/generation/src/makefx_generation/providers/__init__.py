"""Providers behind one port, chosen per job from the recipe's provider; `local` when it has no key."""

from __future__ import annotations

from collections.abc import Mapping

from makefx_contracts.generation import GenerationJob
from makefx_generation.providers.base import Generated, Provider, ProviderRejected, ProviderUnavailable, Reference
from makefx_generation.providers.local import LocalProvider

__all__ = ["Generated", "Provider", "ProviderRejected", "ProviderUnavailable", "Providers", "Reference"]


class Providers:
    """The configured providers by name (`gemini`, `veo`, `elevenlabs`, `lyria`); any other falls back to `local`."""

    def __init__(self, configured: Mapping[str, Provider] | None = None, fallback: Provider | None = None) -> None:
        self.configured = dict(configured or {})
        self.fallback = fallback or LocalProvider()

    def for_job(self, job: GenerationJob) -> Provider:
        return self.configured.get(str(job.recipe.get("provider", "")), self.fallback)
