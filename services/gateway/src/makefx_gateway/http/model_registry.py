"""`GET /api/models`: the generation models a client may choose from, with their parameters (JSON Schema) and cost."""

from __future__ import annotations

from fastapi import APIRouter

from makefx_contracts.generation import MODELS, ModelList
from makefx_gateway.http.security import operation_id


def models_router() -> APIRouter:
    router = APIRouter(prefix="/api", tags=["generation"], generate_unique_id_function=operation_id)

    @router.get("/models")
    async def list_models() -> ModelList:
        """The model registry: every model by media kind; the default of each kind is marked (video has none)."""
        return ModelList(models=list(MODELS))

    return router
