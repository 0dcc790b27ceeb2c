"""Make Effects object storage: the `ObjectStore` port, its directory and S3 adapters, and the seed's keys."""

from makefx_storage.errors import InvalidKey, ObjectNotFound, ObjectTooLarge, RangeNotSatisfiable, StorageUnavailable
from makefx_storage.fs import FsStore
from makefx_storage.ranges import parse_range
from makefx_storage.s3 import S3Store
from makefx_storage.settings import StorageSettings, open_store
from makefx_storage.store import ByteRange, ObjectInfo, ObjectStore, ObjectStream, Source

__all__ = [
    "ByteRange",
    "FsStore",
    "InvalidKey",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "ObjectStream",
    "ObjectTooLarge",
    "RangeNotSatisfiable",
    "S3Store",
    "Source",
    "StorageSettings",
    "StorageUnavailable",
    "open_store",
    "parse_range",
]
