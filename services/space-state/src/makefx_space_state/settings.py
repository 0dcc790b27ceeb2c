"""Settings of the space-state service (environment: MAKEFX_*)."""

from pydantic import Field

from makefx_storage import StorageSettings


class SpaceStateSettings(StorageSettings):
    """Also the object store (`MAKEFX_STORAGE_*`, `MAKEFX_S3_*`): snapshots live there for handoff."""

    service_name: str = "space-state"
    http_port: int = 8080
    # This replica's stable id (the StatefulSet pod name in Kubernetes); it names its command subject.
    replica_id: str = Field(default="state-0", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    # A space unused this long is closed (its file handle and cache freed, its lease released).
    idle_close_seconds: float = Field(default=300, gt=0)
    # Worker threads shared by every open space's SQLite work (a space uses one at a time).
    store_threads: int = Field(default=4, ge=1, le=64)
    # How many of the newest events each space keeps for `getEventsSince`; 0 keeps them all.
    events_keep: int = Field(default=0, ge=0)
    # How long a request id is remembered, so a retried command is answered without being applied twice.
    request_ids_keep_days: float = Field(default=7, gt=0)
    # How often events committed but not yet acknowledged by JetStream are published again.
    publish_retry_seconds: float = Field(default=2, gt=0)
    # An upload still `uploading` this long after its placeholder was made is failed ("never finished").
    upload_expiry_seconds: float = Field(default=3600, gt=0)
    # How often the owner looks for such uploads in its open spaces.
    upload_sweep_seconds: float = Field(default=60, gt=0)
    # How long a starting replica waits to see itself in the ring before it serves.
    join_timeout_seconds: float = Field(default=15, gt=0)
