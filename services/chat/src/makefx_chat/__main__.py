"""`python -m makefx_chat`: run the chat service against `MAKEFX_NATS_URL`."""

from makefx_chat.app import bootstrap
from makefx_chat.settings import ChatSettings
from makefx_runtime import serve


def main() -> None:
    settings = ChatSettings()
    serve(bootstrap(settings), settings)


if __name__ == "__main__":
    main()
