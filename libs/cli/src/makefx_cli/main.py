"""`makefx`: the command line of Make Effects."""

from __future__ import annotations

import argparse
import asyncio
import sys

from makefx_cli.settings import RunnerSettings
from makefx_cli.supervisor import run_dev


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="makefx", description="Make Effects")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "dev",
        help="run the whole product on this machine (embedded NATS, every service) until Ctrl-C",
        description="Ports and data directory come from MAKEFX_HTTP_PORT, MAKEFX_NATS_PORT and MAKEFX_DATA_DIR.",
    )
    args = parser.parse_args(argv)
    if args.command == "dev":
        return asyncio.run(run_dev(RunnerSettings()))
    return 2


if __name__ == "__main__":
    sys.exit(main())
