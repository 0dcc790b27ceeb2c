"""Settings of the media service (environment: MAKEFX_*)."""

from makefx_settings import ServiceSettings


class MediaSettings(ServiceSettings):
    service_name: str = "media"
    http_port: int = 8080
