"""The browser app: `frontend/dist` served at `/`, with `index.html` for every client-side route.

Files under `assets/` carry a content hash in their names, so they are cached for a year;
`index.html` is never cached, so a new deployment is picked up on the next load. Paths
under `/api` never fall back to the app: an unknown API route stays a JSON 404.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from makefx_contracts.errors import NotFound

_IMMUTABLE = "public, max-age=31536000, immutable"
_NO_CACHE = "no-cache"
_NOT_THE_APP = ("api/", "healthz", "readyz", "metrics")


def frontend_router(dist: Path) -> APIRouter:
    root = dist.resolve()
    index = root / "index.html"
    router = APIRouter(include_in_schema=False)

    @router.api_route("/{path:path}", methods=["GET", "HEAD"])
    async def app_file(path: str, request: Request) -> Response:
        if path == "api" or path.startswith(_NOT_THE_APP):
            raise NotFound(f"no route {request.method} /{path}")
        candidate = (root / path).resolve()
        if path and candidate.is_relative_to(root) and candidate.is_file():
            cache = _IMMUTABLE if candidate.parent.name == "assets" else _NO_CACHE
            return FileResponse(candidate, headers={"Cache-Control": cache})
        return FileResponse(index, headers={"Cache-Control": _NO_CACHE})

    return router
