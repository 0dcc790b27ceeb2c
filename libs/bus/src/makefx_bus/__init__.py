"""Make Effects bus: one typed way to talk over NATS and JetStream."""

from makefx_bus.bus import Bus
from makefx_bus.consumers import Delivery, Redeliver, WorkQueueConsumer
from makefx_bus.headers import ACTOR_HEADER, MSG_ID_HEADER, TRACE_HEADER
from makefx_bus.streams import BucketSpec, StreamSpec, bucket_specs, provision, stream_specs

__all__ = [
    "ACTOR_HEADER",
    "MSG_ID_HEADER",
    "TRACE_HEADER",
    "BucketSpec",
    "Bus",
    "Delivery",
    "Redeliver",
    "StreamSpec",
    "WorkQueueConsumer",
    "bucket_specs",
    "provision",
    "stream_specs",
]
