"""`python -m makefx_billing`: run the billing service against `MAKEFX_NATS_URL`."""

from makefx_billing.app import bootstrap
from makefx_billing.settings import BillingSettings
from makefx_runtime import serve


def main() -> None:
    settings = BillingSettings()
    serve(bootstrap(settings), settings)


if __name__ == "__main__":
    main()
