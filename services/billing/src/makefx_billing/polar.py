"""The Polar adapter: ledger events to `POST /v1/events/ingest` through the official `polar-sdk`.

polar-sdk 1.x has no retry of its own (it raises on the first 5xx, 429 or network error),
so the sync loop owns retries and backoff; this module only translates. Each event carries
`external_id` = the usage id, which Polar deduplicates: resending a batch whose answer was
lost never bills twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from polar.base import PolarClientError, PolarError, PolarNetworkError, PolarRateLimitError, PolarServerError
from polar.v2026_10 import PolarAsync

from makefx_billing.settings import BillingSettings
from makefx_billing.sync import IngestResult, SinkFailed
from makefx_contracts.usage import UsageRecorded

log = logging.getLogger(__name__)


def polar_event(usage: UsageRecorded) -> dict[str, Any]:
    """One usage event in Polar's `EventCreateExternalCustomer` shape; the user is the external customer."""
    return {
        "name": usage.kind.value,
        "external_id": usage.id,
        "external_customer_id": usage.user_id,
        "timestamp": datetime.fromtimestamp(usage.at / 1000, UTC).isoformat(),
        "metadata": {
            "space_id": usage.space_id,
            "quantity": usage.quantity,
            "unit": usage.unit,
            "credits": usage.credits,
            "model": usage.model,
            "provider": usage.provider,
        },
    }


class PolarSink:
    """Sends usage to Polar; any failure becomes `SinkFailed` (with Polar's Retry-After when it gave one)."""

    def __init__(self, settings: BillingSettings) -> None:
        if settings.polar_access_token is None:
            raise ValueError("PolarSink needs POLAR_ACCESS_TOKEN")
        self.client = PolarAsync(
            settings.polar_access_token.get_secret_value(),
            environment=settings.polar_environment,
            base_url=settings.polar_server_url,
            timeout=httpx.Timeout(settings.polar_timeout_seconds),
            organization_id=settings.polar_organization_id,
        )

    async def ingest(self, events: Sequence[UsageRecorded]) -> IngestResult:
        try:
            answer = await self.client.events.ingest(events=[polar_event(usage) for usage in events])
        except PolarRateLimitError as error:
            raise SinkFailed("Polar is rate limiting", retry_after=error.retry_after) from error
        except PolarServerError as error:
            raise SinkFailed(f"Polar answered {error.status_code}") from error
        except PolarNetworkError as error:
            cause = type(error.__cause__).__name__ if error.__cause__ else "network error"
            raise SinkFailed(f"Polar is unreachable ({cause})") from error
        except PolarClientError as error:
            # 401/403 (a revoked token) or 422: not fixed by waiting, but nothing may be dropped either.
            log.error("Polar refused a batch of %d usage events: %s", len(events), error.message)
            raise SinkFailed(f"Polar refused the batch with {error.status_code}") from error
        except PolarError as error:
            raise SinkFailed(f"Polar failed: {error.message}") from error
        return IngestResult(inserted=answer.inserted, duplicates=answer.duplicates)

    async def close(self) -> None:
        await self.client.__aexit__()
