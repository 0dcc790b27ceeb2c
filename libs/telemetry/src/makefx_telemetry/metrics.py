"""Prometheus metrics of one process, in a registry the process owns (no global registry)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest


@dataclass
class Metrics:
    service: str
    registry: CollectorRegistry = field(default_factory=lambda: CollectorRegistry(auto_describe=True))

    def __post_init__(self) -> None:
        self.http_requests = Counter(
            "makefx_http_requests_total",
            "HTTP requests answered",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "makefx_http_request_seconds",
            "HTTP request latency",
            ["service", "method", "route"],
            registry=self.registry,
        )
        self.bus_handled = Counter(
            "makefx_bus_messages_total",
            "Bus messages handled by outcome",
            ["service", "subject", "outcome"],
            registry=self.registry,
        )
        self.bus_latency = Histogram(
            "makefx_bus_handler_seconds",
            "Bus handler latency",
            ["service", "subject"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


__all__ = ["CONTENT_TYPE", "Metrics"]
