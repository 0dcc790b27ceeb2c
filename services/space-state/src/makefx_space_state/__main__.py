"""`python -m makefx_space_state`: run the space-state service against `MAKEFX_NATS_URL`."""

from makefx_runtime import serve
from makefx_space_state.app import bootstrap
from makefx_space_state.settings import SpaceStateSettings


def main() -> None:
    settings = SpaceStateSettings()
    serve(bootstrap(settings), settings)


if __name__ == "__main__":
    main()
