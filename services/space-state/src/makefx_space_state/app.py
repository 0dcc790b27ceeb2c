"""Wires the space-state service: bus, responders and health, built by `bootstrap`."""

from fastapi import FastAPI

from makefx_bus import Bus
from makefx_runtime import Service, build_app
from makefx_space_state.settings import SpaceStateSettings


def bootstrap(settings: SpaceStateSettings) -> FastAPI:
    bus = Bus(settings)
    return build_app(Service(settings=settings, bus=bus, title="Make Effects space-state"))
