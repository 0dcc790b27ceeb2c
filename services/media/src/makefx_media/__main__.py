"""`python -m makefx_media`: run the media service against `MAKEFX_NATS_URL`."""

from makefx_media.app import bootstrap
from makefx_media.settings import MediaSettings
from makefx_runtime import serve


def main() -> None:
    settings = MediaSettings()
    serve(bootstrap(settings), settings)


if __name__ == "__main__":
    main()
