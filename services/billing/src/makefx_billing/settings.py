"""Settings of the billing service (environment: MAKEFX_*)."""

from makefx_settings import ServiceSettings


class BillingSettings(ServiceSettings):
    service_name: str = "billing"
    http_port: int = 8080
