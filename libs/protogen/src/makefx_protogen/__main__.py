"""`python -m makefx_protogen proto`: regenerate proto/ and docs/protocol.md, or `--check` them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from makefx_protogen.output import check, default_docs_path, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m makefx_protogen", description=__doc__)
    parser.add_argument("proto_dir", type=Path, help="the output folder, usually `proto`")
    parser.add_argument(
        "--docs",
        type=Path,
        default=None,
        help="the protocol reference to write (default: <proto_dir>/../docs/protocol.md)",
    )
    parser.add_argument("--check", action="store_true", help="write nothing; list drifted files and exit 1 if any")
    args = parser.parse_args(argv)
    docs = args.docs if args.docs is not None else default_docs_path(args.proto_dir)
    if args.check:
        drifted = check(args.proto_dir, docs)
        for path in drifted:
            print(f"drifted: {path}", file=sys.stderr)
        if drifted:
            print("run `make proto` to regenerate", file=sys.stderr)
        return 1 if drifted else 0
    touched = write(args.proto_dir, docs)
    for path in touched:
        print(path)
    print(f"{len(touched)} file(s) changed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
