"""Signed URLs to the media service's own byte endpoint: HMAC-SHA256 over method, key and expiry.

The URL carries `expires` (Unix seconds) and `signature`; anyone holding it may do that
one method on that one key until then. A HEAD is allowed with a GET signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote, urlencode

from makefx_contracts.media import SignMethod
from makefx_media.errors import SignatureRefused

OBJECTS_PATH = "/objects/"


class UrlSigner:
    def __init__(self, secret: bytes, base_url: str) -> None:
        if len(secret) < 32:
            raise ValueError("the media signing secret must be at least 32 bytes")
        self._secret = secret
        self.base_url = base_url.rstrip("/")

    def url(self, method: SignMethod, key: str, expires: int) -> str:
        query = urlencode({"expires": expires, "signature": self._signature(method, key, expires)})
        return f"{self.base_url}{OBJECTS_PATH}{quote(key, safe='/')}?{query}"

    def verify(self, method: SignMethod, key: str, expires: str | None, signature: str | None, now: float) -> int:
        """Return the expiry (Unix seconds) of a valid signature, or raise `SignatureRefused`."""
        if not expires or not signature or not expires.isdigit() or len(expires) > 12:
            raise SignatureRefused("the URL is not signed")
        expected = self._signature(method, key, int(expires))
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise SignatureRefused("the URL's signature does not match")
        if int(expires) <= now:
            raise SignatureRefused("the URL has expired", details={"expiredAt": int(expires)})
        return int(expires)

    def _signature(self, method: SignMethod, key: str, expires: int) -> str:
        message = f"{method.value}\n{key}\n{expires}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
