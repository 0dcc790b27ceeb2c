"""Settings of the chat service (environment: MAKEFX_*)."""

from makefx_settings import ServiceSettings


class ChatSettings(ServiceSettings):
    service_name: str = "chat"
    http_port: int = 8080
