"""Make Effects protocol generator: proto/ and docs/protocol.md from libs/contracts (`make proto`)."""

from makefx_protogen.asyncapi import asyncapi
from makefx_protogen.catalog import Catalog, discover
from makefx_protogen.output import check, expected, generate, reference, write
from makefx_protogen.schemas import message_schemas
from makefx_protogen.typescript import typescript

__all__ = [
    "Catalog",
    "asyncapi",
    "check",
    "discover",
    "expected",
    "generate",
    "message_schemas",
    "reference",
    "typescript",
    "write",
]
