"""The import boundaries of CONVENTIONS.md hold, and no package escapes them."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def configured() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def packages(kind: str) -> set[str]:
    return {path.name for path in ROOT.glob(f"{kind}/*/src/makefx_*") if path.is_dir()}


def test_every_package_is_under_the_import_contracts():
    config = configured()
    assert packages("libs") | packages("services") == set(config["root_packages"])
    contracts = {contract["name"]: contract for contract in config["contracts"]}
    assert set(contracts["Services never import each other"]["modules"]) == packages("services")
    libraries = contracts["Libraries never import services"]
    assert set(libraries["source_modules"]) == packages("libs")
    assert set(libraries["forbidden_modules"]) == packages("services")


def test_import_contracts_hold():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_package_installs_editable_as_a_plain_source_path():
    """Hatchling's other editable mode needs the `editables` package and freezes the module list."""
    for pyproject in [*ROOT.glob("libs/*/pyproject.toml"), *ROOT.glob("services/*/pyproject.toml")]:
        build = tomllib.loads(pyproject.read_text())["tool"]["hatch"]["build"]
        assert build.get("dev-mode-dirs") == ["src"], pyproject
