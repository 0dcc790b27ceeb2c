"""Signing and verifying keys for access tokens: an HS256 secret or an RS256 key pair."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

Algorithm = Literal["HS256", "RS256"]

MIN_SECRET_BYTES = 32
MIN_RSA_BITS = 2048
_PEM_START = "-----BEGIN"


class KeyConfigError(ValueError):
    """The configured keys cannot sign or verify tokens; the message says which setting to fix."""


@dataclass(frozen=True)
class SigningKeys:
    """What `AccessTokens` signs with and verifies against.

    `signing_key` is None for a verify-only holder (a service that checks tokens
    but never issues them, given only the RS256 public key).
    """

    algorithm: Algorithm
    signing_key: Any
    verifying_key: Any

    @property
    def can_sign(self) -> bool:
        return self.signing_key is not None

    @classmethod
    def hs256(cls, secret: str) -> SigningKeys:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise KeyConfigError(f"the HS256 secret must be at least {MIN_SECRET_BYTES} bytes long")
        return cls("HS256", secret, secret)

    @classmethod
    def rs256(cls, private_key: str | None = None, public_key: str | None = None) -> SigningKeys:
        """An RS256 pair; each key is a PEM string or the path of a PEM file.

        The public key is derived from the private one when not given; with only a
        public key the holder can verify but not sign.
        """
        if private_key is None and public_key is None:
            raise KeyConfigError("RS256 needs a private key (to sign) or a public key (to verify)")
        private = _load_private(private_key) if private_key is not None else None
        public = _load_public(public_key) if public_key is not None else None
        if private is not None:
            derived = private.public_key()
            if public is not None and public.public_numbers() != derived.public_numbers():
                raise KeyConfigError("the RS256 public key does not belong to the private key")
            public = derived
        assert public is not None
        if public.key_size < MIN_RSA_BITS:
            raise KeyConfigError(f"the RS256 key has {public.key_size} bits; at least {MIN_RSA_BITS} are needed")
        return cls("RS256", private, public)

    @classmethod
    def from_config(
        cls,
        algorithm: Algorithm,
        *,
        secret: str | None = None,
        private_key: str | None = None,
        public_key: str | None = None,
    ) -> SigningKeys:
        if algorithm == "HS256":
            if not secret:
                raise KeyConfigError("HS256 tokens need a secret (at least 32 bytes)")
            return cls.hs256(secret)
        if algorithm == "RS256":
            return cls.rs256(private_key, public_key)
        raise KeyConfigError(f"unsupported token algorithm {algorithm!r}: use HS256 or RS256")


def _pem_bytes(value: str, what: str) -> bytes:
    if value.lstrip().startswith(_PEM_START):
        return value.encode()
    path = Path(value).expanduser()
    try:
        return path.read_bytes()
    except OSError as error:
        raise KeyConfigError(f"the {what} is neither a PEM string nor a readable file: {error}") from None


def _load_private(value: str) -> RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(_pem_bytes(value, "RS256 private key"), password=None)
    except (ValueError, TypeError) as error:
        raise KeyConfigError(f"the RS256 private key is not a readable unencrypted PEM key: {error}") from None
    if not isinstance(key, RSAPrivateKey):
        raise KeyConfigError("the RS256 private key is not an RSA key")
    return key


def _load_public(value: str) -> RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(_pem_bytes(value, "RS256 public key"))
    except (ValueError, TypeError) as error:
        raise KeyConfigError(f"the RS256 public key is not a readable PEM key: {error}") from None
    if not isinstance(key, RSAPublicKey):
        raise KeyConfigError("the RS256 public key is not an RSA key")
    return key
