"""Settings of the space-state service (environment: MAKEFX_*)."""

from makefx_settings import ServiceSettings


class SpaceStateSettings(ServiceSettings):
    service_name: str = "space-state"
    http_port: int = 8080
