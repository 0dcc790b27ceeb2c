"""Wires the media service: bus, responders and health, built by `bootstrap`."""

from fastapi import FastAPI

from makefx_bus import Bus
from makefx_media.settings import MediaSettings
from makefx_runtime import Service, build_app


def bootstrap(settings: MediaSettings) -> FastAPI:
    bus = Bus(settings)
    return build_app(Service(settings=settings, bus=bus, title="Make Effects media"))
