"""The gateway's public HTTP API (ARCHITECTURE §6b): routers, bodies, credentials, limits."""
