"""`python -m makefx_generation`: run the generation service against `MAKEFX_NATS_URL`."""

from makefx_generation.app import bootstrap
from makefx_generation.settings import GenerationSettings
from makefx_runtime import serve


def main() -> None:
    settings = GenerationSettings()
    serve(bootstrap(settings), settings)


if __name__ == "__main__":
    main()
