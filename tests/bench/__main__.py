"""`python -m tests.bench`: run every benchmark module and print its table."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import sys

import tests.bench


def main() -> int:
    only = set(sys.argv[1:])
    for module_info in pkgutil.iter_modules(tests.bench.__path__):
        if not module_info.name.startswith("bench_") or (only and module_info.name not in only):
            continue
        module = importlib.import_module(f"tests.bench.{module_info.name}")
        asyncio.run(module.run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
