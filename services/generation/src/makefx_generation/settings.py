"""Settings of the generation service (environment: MAKEFX_*)."""

from makefx_settings import ServiceSettings


class GenerationSettings(ServiceSettings):
    service_name: str = "generation"
    http_port: int = 8080
