"""Generation: the job on `GEN_JOBS`, the answers and progress sent to sockets, and the model registry.

The requests themselves are space commands and socket messages (`space.py`, `socket.py`,
next to the others, as the unions that decode them must import them). A `generate:request`
(new asset) or `refine:request` (new variant of an asset) makes the owner commit the asset,
the `pending` placeholder variant with its full recipe and the lineage rows, then publish one
`GenerationJob` to `fx.gen.jobs.<mediaKind>` (`Nats-Msg-Id = <variantId>:<attempt>`) and
mark the variant `processing`. A worker reports back with `MarkVariantUploading`, then
`CompleteVariant` or `FailVariant`, each naming its attempt: a report for another attempt
changes nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from makefx_contracts.base import Message, Model, Subject
from makefx_contracts.rows import MediaKind, VariantStatus
from makefx_contracts.space import Actor
from makefx_contracts.subjects import GENERATION_JOBS, GENERATION_PROGRESS


def job_id(variant_id: str, attempt: int) -> str:
    """The job's identity: its `Nats-Msg-Id`, the variant's `workflow_id` and the usage event's id."""
    return f"{variant_id}:{attempt}"


def parse_job_id(workflow_id: str | None) -> tuple[str, int] | None:
    if not workflow_id or ":" not in workflow_id:
        return None
    variant_id, _, attempt = workflow_id.rpartition(":")
    return (variant_id, int(attempt)) if attempt.isdigit() else None


class GenerateStarted(Message):
    """The answer to `generate:request`: the placeholder's ids (its events are broadcast as usual)."""

    type: Literal["generate:started"] = "generate:started"
    request_id: str | None
    seq: int
    asset_id: str
    variant_id: str


class RefineStarted(Message):
    type: Literal["refine:started"] = "refine:started"
    request_id: str | None
    seq: int
    asset_id: str
    variant_id: str


class JobProgress(Message):
    """Ephemeral progress of a running job (`fx.gen.progress.<spaceId>`), relayed to the space's sockets."""

    type: Literal["job:progress"] = "job:progress"
    subject: ClassVar[Subject] = GENERATION_PROGRESS
    space_id: str
    job_id: str
    variant_id: str
    attempt: int = Field(ge=1)
    status: VariantStatus
    progress: float | None = Field(default=None, ge=0, le=1, description="done so far, 0 to 1, when known")


# -- the job ------------------------------------------------------------------------------------


class GenerationJob(Message):
    """One attempt at one variant, on `fx.gen.jobs.<mediaKind>`; the recipe is the variant's stored recipe."""

    type: Literal["gen:job"] = "gen:job"
    subject: ClassVar[Subject] = GENERATION_JOBS
    space_id: str
    asset_id: str
    variant_id: str
    attempt: int = Field(ge=1)
    media_kind: MediaKind
    asset_type: str
    recipe: dict[str, Any]
    actor: Actor

    @property
    def id(self) -> str:
        return job_id(self.variant_id, self.attempt)


# -- the model registry ---------------------------------------------------------------------------


class ModelInfo(Model):
    """One generation model: data, published at `GET /api/models`."""

    id: str
    media_kind: MediaKind
    provider: str
    label: str
    default: bool = False
    parameters: dict[str, Any] = Field(description="JSON Schema of the recipe's `options` for this model")
    cost_units: float = Field(ge=0, description="credits per unit")
    unit: str = Field(description="image, second, …")
    asset_types: list[str] | None = Field(default=None, description="audio: only these asset types; null: any")


class ModelList(Message):
    type: Literal["models:list"] = "models:list"
    models: list[ModelInfo]


def _schema(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": properties}


_IMAGE_SIZE = {
    "width": {"type": "integer", "minimum": 64, "maximum": 4096, "default": 1024},
    "height": {"type": "integer", "minimum": 64, "maximum": 4096, "default": 1024},
    "aspectRatio": {"type": "string", "enum": ["1:1", "3:4", "4:3", "9:16", "16:9"]},
}
_VIDEO = {
    "videoTier": {"type": "string", "enum": ["fast", "standard"], "default": "fast"},
    "videoResolution": {"type": "string", "enum": ["720p", "1080p"], "default": "720p"},
    "videoDurationSeconds": {"type": "integer", "enum": [4, 6, 8], "default": 8},
    "generateAudio": {"type": "boolean", "const": True, "default": True},
}
_AUDIO = {"durationSeconds": {"type": "number", "minimum": 0.5, "maximum": 120, "default": 5}}

MODELS: tuple[ModelInfo, ...] = (
    ModelInfo(
        id="gemini-3.1-flash-image",
        media_kind=MediaKind.IMAGE,
        provider="gemini",
        label="Gemini 3.1 Flash Image",
        default=True,
        parameters=_schema(**_IMAGE_SIZE),
        cost_units=1,
        unit="image",
    ),
    ModelInfo(
        id="gemini-3-pro-image",
        media_kind=MediaKind.IMAGE,
        provider="gemini",
        label="Gemini 3 Pro Image",
        parameters=_schema(**_IMAGE_SIZE),
        cost_units=4,
        unit="image",
    ),
    ModelInfo(
        id="veo-3.1-generate",
        media_kind=MediaKind.VIDEO,
        provider="veo",
        label="Veo 3.1",
        parameters=_schema(**_VIDEO, width={"type": "integer"}, height={"type": "integer"}),
        cost_units=10,
        unit="second",
    ),
    ModelInfo(
        id="elevenlabs",
        media_kind=MediaKind.AUDIO,
        provider="elevenlabs",
        label="ElevenLabs (sound effects, music, speech)",
        default=True,
        parameters=_schema(
            **_AUDIO,
            voiceId={"type": "string", "minLength": 1},
            dialogueVoiceIds={
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "minItems": 2,
                "maxItems": 10,
                "description": "two or more voices make a dialogue: one prompt line per turn, the voices in turn",
            },
        ),
        cost_units=1,
        unit="second",
    ),
    ModelInfo(
        id="lyria-002",
        media_kind=MediaKind.AUDIO,
        provider="lyria",
        label="Lyria (music)",
        parameters=_schema(**_AUDIO),
        cost_units=1,
        unit="second",
        asset_types=["music"],
    ),
)
"""The model registry: data. Video has no default: a video recipe names its model."""


def find_model(model_id: str) -> ModelInfo | None:
    return next((model for model in MODELS if model.id == model_id), None)


def default_model(media_kind: MediaKind) -> ModelInfo | None:
    return next((model for model in MODELS if model.media_kind is media_kind and model.default), None)
