"""SigningKeys: which configurations are accepted, and the message when one is not."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from makefx_auth import KeyConfigError, SigningKeys


def test_hs256_secret_shorter_than_32_bytes_is_refused() -> None:
    with pytest.raises(KeyConfigError, match="at least 32 bytes"):
        SigningKeys.hs256("short")


def test_hs256_without_secret_names_the_missing_secret() -> None:
    with pytest.raises(KeyConfigError, match="need a secret"):
        SigningKeys.from_config("HS256")


def test_rs256_public_key_is_derived_from_the_private_key(rsa_pair) -> None:
    keys = SigningKeys.rs256(rsa_pair.private)
    assert keys.can_sign
    assert keys.verifying_key.public_numbers() == keys.signing_key.public_key().public_numbers()


def test_rs256_with_only_a_public_key_verifies_but_cannot_sign(rsa_pair) -> None:
    keys = SigningKeys.rs256(public_key=rsa_pair.public)
    assert not keys.can_sign


def test_rs256_keys_are_read_from_pem_files(tmp_path: Path, rsa_pair) -> None:
    private = tmp_path / "private.pem"
    public = tmp_path / "public.pem"
    private.write_text(rsa_pair.private)
    public.write_text(rsa_pair.public)
    keys = SigningKeys.from_config("RS256", private_key=str(private), public_key=str(public))
    assert keys.can_sign and keys.algorithm == "RS256"


def test_rs256_key_pair_that_does_not_match_is_refused(rsa_pair, other_rsa_pair) -> None:
    with pytest.raises(KeyConfigError, match="does not belong"):
        SigningKeys.rs256(rsa_pair.private, other_rsa_pair.public)


def test_rs256_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigError, match="neither a PEM string nor a readable file"):
        SigningKeys.rs256(str(tmp_path / "absent.pem"))


def test_rs256_garbage_pem_is_reported() -> None:
    with pytest.raises(KeyConfigError, match="not a readable unencrypted PEM key"):
        SigningKeys.rs256("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")


def test_rs256_short_key_is_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = small.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(KeyConfigError, match="at least 2048"):
        SigningKeys.rs256(pem)


def test_rs256_without_any_key_is_refused() -> None:
    with pytest.raises(KeyConfigError, match="private key"):
        SigningKeys.from_config("RS256")
