"""Wires the billing service: ledger, usage consumer, Polar sync, responders and health; built by `bootstrap`."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from makefx_billing.consumer import UsageConsumer
from makefx_billing.handlers import BillingResponders
from makefx_billing.polar import PolarSink
from makefx_billing.service import Ledger
from makefx_billing.settings import BillingSettings
from makefx_billing.store import LedgerStore, create_engine
from makefx_billing.sync import PolarSync
from makefx_bus import Bus
from makefx_runtime import Service, build_app

log = logging.getLogger(__name__)


def bootstrap(settings: BillingSettings) -> FastAPI:
    store = LedgerStore(create_engine(settings.resolved_database_url()))
    ledger = Ledger(store)
    bus = Bus(settings)
    responders = BillingResponders(ledger)
    bus.responder(responders.on_get_usage)
    bus.responder(responders.on_get_space_budget)
    bus.responder(responders.on_set_space_budget)
    bus.responder(responders.on_check_budget)
    intake = UsageConsumer(
        bus,
        ledger,
        durable=settings.usage_consumer_name,
        batch=settings.usage_fetch_batch,
        ack_wait_seconds=settings.usage_ack_wait_seconds,
        max_deliver=settings.usage_max_deliver,
    )
    on_start = [store.migrate, intake.start]
    on_stop = [store.close, intake.stop]
    sync: PolarSync | None = None
    if settings.polar_enabled:
        sync = PolarSync(
            store,
            PolarSink(settings),
            interval_seconds=settings.polar_sync_interval_seconds,
            batch_size=settings.polar_batch_size,
            retry_initial_seconds=settings.polar_retry_initial_seconds,
            retry_max_seconds=settings.polar_retry_max_seconds,
        )
        on_start.append(sync.start)
        on_stop.append(sync.stop)
    else:

        async def say_sync_is_off() -> None:
            log.warning("Polar sync is off: POLAR_ACCESS_TOKEN is not set; usage is kept in the ledger only")

        on_start.append(say_sync_is_off)
    app = build_app(
        Service(
            settings=settings,
            bus=bus,
            title="Make Effects billing",
            on_start=on_start,
            on_stop=on_stop,
            checks=[store.problem],
            liveness=[intake.consumer.problem],
            extra={"ledger": ledger, "store": store, "sync": sync, "intake": intake},
        )
    )
    return app
