"""Keys for the auth tests: an HS256 secret and RS256 key pairs made with `cryptography`."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True)
class PemPair:
    private: str
    public: str


def _pem_pair(bits: int = 2048) -> PemPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return PemPair(private, public)


@pytest.fixture(scope="session")
def rsa_pair() -> PemPair:
    return _pem_pair()


@pytest.fixture(scope="session")
def other_rsa_pair() -> PemPair:
    return _pem_pair()


@pytest.fixture
def secret() -> str:
    return "s" * 40
