"""Make Effects message contracts: every message on NATS and the WebSocket, as pydantic models."""

from makefx_contracts.base import Message, Model, Request, Row, Subject
from makefx_contracts.errors import ErrorCode, ErrorReply, FxError

__all__ = ["ErrorCode", "ErrorReply", "FxError", "Message", "Model", "Request", "Row", "Subject"]
