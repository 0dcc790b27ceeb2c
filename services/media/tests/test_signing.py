"""HMAC-signed URLs to the byte endpoint."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from makefx_contracts.media import SignMethod
from makefx_media.errors import SignatureRefused
from makefx_media.signing import UrlSigner

SECRET = b"x" * 32
NOW = 1_800_000_000


def parts(url: str) -> tuple[str, str, str]:
    split = urlsplit(url)
    query = parse_qs(split.query)
    return split.path, query["expires"][0], query["signature"][0]


def test_a_signed_url_verifies_until_it_expires() -> None:
    signer = UrlSigner(SECRET, "https://media.example.com/")
    url = signer.url(SignMethod.GET, "images/s1/v1.png", NOW + 60)
    _, expires, signature = parts(url)
    assert url.startswith("https://media.example.com/objects/images/s1/v1.png?")
    assert signer.verify(SignMethod.GET, "images/s1/v1.png", expires, signature, NOW) == NOW + 60
    with pytest.raises(SignatureRefused, match="expired"):
        signer.verify(SignMethod.GET, "images/s1/v1.png", expires, signature, NOW + 60)


@pytest.mark.parametrize(
    ("method", "key", "expires_delta"),
    [
        (SignMethod.PUT, "images/s1/v1.png", 0),
        (SignMethod.GET, "images/s1/v2.png", 0),
        (SignMethod.GET, "images/s1/v1.png", 1),
    ],
)
def test_changing_the_method_key_or_expiry_breaks_the_signature(
    method: SignMethod, key: str, expires_delta: int
) -> None:
    signer = UrlSigner(SECRET, "http://127.0.0.1:8080")
    _, expires, signature = parts(signer.url(SignMethod.GET, "images/s1/v1.png", NOW + 60))
    with pytest.raises(SignatureRefused, match="does not match"):
        signer.verify(method, key, str(int(expires) + expires_delta), signature, NOW)


def test_another_secret_does_not_verify() -> None:
    _, expires, signature = parts(UrlSigner(SECRET, "http://a").url(SignMethod.GET, "k/v", NOW + 60))
    with pytest.raises(SignatureRefused):
        UrlSigner(b"y" * 32, "http://a").verify(SignMethod.GET, "k/v", expires, signature, NOW)


@pytest.mark.parametrize(("expires", "signature"), [(None, "abc"), ("123", None), ("-5", "abc"), ("9" * 20, "abc")])
def test_missing_or_malformed_parameters_are_refused(expires: str | None, signature: str | None) -> None:
    with pytest.raises(SignatureRefused, match="not signed"):
        UrlSigner(SECRET, "http://a").verify(SignMethod.GET, "k/v", expires, signature, NOW)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        UrlSigner(b"short", "http://a")
