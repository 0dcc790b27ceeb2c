"""Wires the billing service: bus, responders and health, built by `bootstrap`."""

from fastapi import FastAPI

from makefx_billing.settings import BillingSettings
from makefx_bus import Bus
from makefx_runtime import Service, build_app


def bootstrap(settings: BillingSettings) -> FastAPI:
    bus = Bus(settings)
    return build_app(Service(settings=settings, bus=bus, title="Make Effects billing"))
