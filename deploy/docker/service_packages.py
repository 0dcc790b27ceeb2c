"""Print the folders to `pip install` for one service: the service and every makefx library it needs.

Used by each service's Dockerfile (build context: the repository root):

    pip install -c constraints.txt $(python deploy/docker/service_packages.py services/gateway)

Our own packages are installed from these folders, never looked up on a package index,
so a same-named package published elsewhere can never be installed in their place.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

_NAME = re.compile(r"^([A-Za-z0-9._-]+)")


def local_packages(root: Path) -> dict[str, Path]:
    """Distribution name (normalised) -> folder, for every package under libs/ and services/."""
    found = {}
    for pyproject in sorted([*root.glob("libs/*/pyproject.toml"), *root.glob("services/*/pyproject.toml")]):
        name = tomllib.loads(pyproject.read_text())["project"]["name"]
        found[_normalise(name)] = pyproject.parent.resolve()
    return found


def closure(service: Path, root: Path) -> list[Path]:
    """The service's folder and, depth first, the folders of every makefx package it depends on."""
    known = local_packages(root)
    ordered: list[Path] = []

    def visit(folder: Path) -> None:
        if folder in ordered:
            return
        ordered.append(folder)
        project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
        for requirement in project.get("dependencies", []):
            name = _normalise(_NAME.match(requirement).group(1))
            if name.startswith("makefx-"):
                if name not in known:
                    raise SystemExit(f"{folder}: depends on {name}, which is not under libs/ or services/")
                visit(known[name])

    visit(service.resolve() if service.is_absolute() else (root / service).resolve())
    return ordered


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: service_packages.py services/<name>", file=sys.stderr)
        return 2
    root = Path.cwd()
    for folder in closure(Path(argv[0]), root):
        print(f"./{folder.relative_to(root.resolve())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
