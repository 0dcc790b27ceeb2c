"""Make Effects routing: which space-state replica owns a space, and getting commands to it (ARCHITECTURE §4)."""

from makefx_router.client import SpaceRouter
from makefx_router.leases import Lease, LeaseRecord, LeaseTable
from makefx_router.replicas import ReplicaDirectory, ReplicaHeartbeat, ReplicaRecord, replica_subject
from makefx_router.ring import Ring

__all__ = [
    "Lease",
    "LeaseRecord",
    "LeaseTable",
    "ReplicaDirectory",
    "ReplicaHeartbeat",
    "ReplicaRecord",
    "Ring",
    "SpaceRouter",
    "replica_subject",
]
