"""`python -m makefx_natsconfig [DIR]`: write `deploy/nats/` (or DIR) from the contracts' topology."""

from __future__ import annotations

import sys
from pathlib import Path

from makefx_natsconfig.deploy import deploy_files


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else Path("deploy/nats")
    target.mkdir(parents=True, exist_ok=True)
    for name, content in deploy_files().items():
        (target / name).write_text(content)
        print(f"wrote {target / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
