"""`python -m makefx_gateway`: run the gateway (HTTP API + identity responders)."""

import sys

from pydantic import ValidationError

from makefx_gateway.app import bootstrap
from makefx_gateway.settings import GatewaySettings
from makefx_runtime import serve


def main() -> None:
    try:
        settings = GatewaySettings()
    except ValidationError as error:
        problems = "; ".join(str(item["msg"]).removeprefix("Value error, ") for item in error.errors())
        sys.exit(f"gateway: invalid settings: {problems}")
    serve(bootstrap(settings), settings)


if __name__ == "__main__":
    main()
