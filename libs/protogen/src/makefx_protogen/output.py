"""The generated files as text, and writing or checking them on disk."""

from __future__ import annotations

from pathlib import Path

from makefx_protogen.asyncapi import asyncapi
from makefx_protogen.catalog import Catalog, discover
from makefx_protogen.reference import proto_readme, protocol_reference
from makefx_protogen.schemas import body_schemas, dump, message_schemas, schema_path
from makefx_protogen.typescript import typescript

SCHEMA_DIR = "json-schema"


def generate(catalog: Catalog) -> dict[str, str]:
    """Every file of proto/, as `{path relative to proto/: text}`."""
    schemas = message_schemas(catalog)
    files = {schema_path(catalog.ids[message]): dump(schema) for message, schema in schemas.items()}
    files["asyncapi.json"] = dump(asyncapi(catalog))
    files["ts/messages.ts"] = typescript(
        [*schemas.values(), *body_schemas(catalog).values()],
        error_codes=[doc.code for doc in catalog.error_codes],
        unions={name: [m.__name__ for m in members] for name, members in catalog.unions.items()},
    )
    files["README.md"] = proto_readme()
    return dict(sorted(files.items()))


def reference(catalog: Catalog) -> str:
    """docs/protocol.md."""
    return protocol_reference(catalog, message_schemas(catalog))


def default_docs_path(proto_dir: Path) -> Path:
    return Path(proto_dir).parent / "docs" / "protocol.md"


def expected(proto_dir: Path, docs_path: Path | None = None, catalog: Catalog | None = None) -> dict[Path, str]:
    """Every generated file at its place on disk."""
    catalog = catalog if catalog is not None else discover()
    proto_dir = Path(proto_dir)
    files = {proto_dir / path: text for path, text in generate(catalog).items()}
    files[docs_path if docs_path is not None else default_docs_path(proto_dir)] = reference(catalog)
    return files


def stale(proto_dir: Path, wanted: dict[Path, str]) -> list[Path]:
    """Schema files on disk that are no longer generated (a message was removed or renamed)."""
    folder = Path(proto_dir) / SCHEMA_DIR
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if path.is_file() and path not in wanted)


def check(proto_dir: Path, docs_path: Path | None = None, catalog: Catalog | None = None) -> list[str]:
    """Paths whose content differs from what the contracts generate (missing, changed or stale)."""
    wanted = expected(proto_dir, docs_path, catalog)
    drifted = [path for path, text in wanted.items() if not path.is_file() or path.read_text(encoding="utf-8") != text]
    return sorted(str(path) for path in [*drifted, *stale(proto_dir, wanted)])


def write(proto_dir: Path, docs_path: Path | None = None, catalog: Catalog | None = None) -> list[str]:
    """Write every generated file that changed and remove stale schemas; returns the paths touched."""
    wanted = expected(proto_dir, docs_path, catalog)
    touched = []
    for path, text in wanted.items():
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        touched.append(str(path))
    for path in stale(proto_dir, wanted):
        path.unlink()
        touched.append(str(path))
    return sorted(touched)
