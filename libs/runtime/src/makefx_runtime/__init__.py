"""The process shell every Make Effects service runs in."""

from makefx_runtime.app import ReadinessCheck, Service, build_app, serve

__all__ = ["ReadinessCheck", "Service", "build_app", "serve"]
