"""The real-time side of the gateway: sockets, the per-space event fan-out, presence."""
