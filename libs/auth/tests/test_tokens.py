"""AccessTokens: issue/verify round trips, and precise refusals for expired, forged and odd tokens."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from makefx_auth import AccessTokens, SigningKeys, hash_refresh_token, new_refresh_token
from makefx_contracts.errors import ErrorCode, Unauthenticated


def tokens(keys: SigningKeys, *, issuer: str = "makefx", ttl: int = 900) -> AccessTokens:
    return AccessTokens(keys, issuer=issuer, ttl_seconds=ttl)


def test_hs256_token_round_trips_its_claims(secret: str) -> None:
    issuer = tokens(SigningKeys.hs256(secret))
    issued = issuer.issue("usr_1", "ses_1")
    claims = issuer.verify(issued.token)
    assert (claims.user_id, claims.session_id, claims.issuer) == ("usr_1", "ses_1", "makefx")
    assert claims.expires_at - claims.issued_at == timedelta(seconds=900)
    assert claims == issued.claims


def test_token_carries_the_documented_claims(secret: str) -> None:
    issued = tokens(SigningKeys.hs256(secret)).issue("usr_1", "ses_1")
    payload = jwt.decode(issued.token, options={"verify_signature": False})
    assert set(payload) == {"sub", "sid", "jti", "iat", "exp", "iss", "typ"}
    assert payload["typ"] == "access"


def test_rs256_token_round_trips_and_verifies_with_the_public_key_alone(rsa_pair) -> None:
    issued = tokens(SigningKeys.rs256(rsa_pair.private)).issue("usr_1", "ses_1")
    assert jwt.get_unverified_header(issued.token)["alg"] == "RS256"
    claims = tokens(SigningKeys.rs256(public_key=rsa_pair.public)).verify(issued.token)
    assert claims.user_id == "usr_1"


def test_verify_only_keys_cannot_issue(rsa_pair) -> None:
    with pytest.raises(ValueError, match="only verify"):
        tokens(SigningKeys.rs256(public_key=rsa_pair.public)).issue("usr_1", "ses_1")


def test_expired_token_is_refused_as_expired(secret: str) -> None:
    issuer = tokens(SigningKeys.hs256(secret), ttl=60)
    issued = issuer.issue("usr_1", "ses_1", now=datetime.now(UTC) - timedelta(minutes=5))
    with pytest.raises(Unauthenticated) as caught:
        issuer.verify(issued.token)
    assert caught.value.code is ErrorCode.UNAUTHENTICATED
    assert caught.value.message == "access token expired"
    assert caught.value.details == {"reason": "expired"}


def test_token_signed_with_another_secret_is_refused_as_invalid(secret: str) -> None:
    forged = tokens(SigningKeys.hs256("x" * 40)).issue("usr_1", "ses_1")
    with pytest.raises(Unauthenticated, match="signature does not match") as caught:
        tokens(SigningKeys.hs256(secret)).verify(forged.token)
    assert caught.value.details == {"reason": "invalid"}


def test_token_signed_with_another_rsa_key_is_refused(rsa_pair, other_rsa_pair) -> None:
    forged = tokens(SigningKeys.rs256(other_rsa_pair.private)).issue("usr_1", "ses_1")
    with pytest.raises(Unauthenticated, match="signature does not match"):
        tokens(SigningKeys.rs256(rsa_pair.private)).verify(forged.token)


def test_hs256_token_made_with_the_rsa_public_key_as_secret_is_refused(rsa_pair) -> None:
    """The classic algorithm-confusion forgery: only the configured algorithm is accepted."""
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT"}')
    now = int(datetime.now(UTC).timestamp())
    body = jwt.utils.base64url_encode(
        (
            f'{{"sub":"usr_1","sid":"ses_1","jti":"j","iat":{now},"exp":{now + 60},"iss":"makefx","typ":"access"}}'
        ).encode()
    )
    signature = hmac.new(rsa_pair.public.encode(), header + b"." + body, hashlib.sha256).digest()
    forged = b".".join([header, body, jwt.utils.base64url_encode(signature)]).decode()
    with pytest.raises(Unauthenticated, match="not signed with RS256"):
        tokens(SigningKeys.rs256(rsa_pair.private)).verify(forged)


def test_token_of_another_issuer_is_refused(secret: str) -> None:
    issued = tokens(SigningKeys.hs256(secret), issuer="elsewhere").issue("usr_1", "ses_1")
    with pytest.raises(Unauthenticated, match="another issuer"):
        tokens(SigningKeys.hs256(secret)).verify(issued.token)


def test_token_without_a_session_claim_is_refused(secret: str) -> None:
    now = int(datetime.now(UTC).timestamp())
    token = jwt.encode(
        {"sub": "usr_1", "jti": "j", "iat": now, "exp": now + 60, "iss": "makefx", "typ": "access"},
        secret,
        algorithm="HS256",
    )
    with pytest.raises(Unauthenticated, match="'sid' claim is missing"):
        tokens(SigningKeys.hs256(secret)).verify(token)


def test_token_of_another_type_is_refused(secret: str) -> None:
    now = int(datetime.now(UTC).timestamp())
    token = jwt.encode(
        {"sub": "usr_1", "sid": "s", "jti": "j", "iat": now, "exp": now + 60, "iss": "makefx", "typ": "refresh"},
        secret,
        algorithm="HS256",
    )
    with pytest.raises(Unauthenticated, match="not an access token"):
        tokens(SigningKeys.hs256(secret)).verify(token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "e30.e30.", "Bearer x"])
def test_garbage_is_refused_as_invalid_not_an_exception(secret: str, garbage: str) -> None:
    with pytest.raises(Unauthenticated) as caught:
        tokens(SigningKeys.hs256(secret)).verify(garbage)
    assert caught.value.details == {"reason": "invalid"}


def test_refresh_tokens_are_random_and_stored_only_as_a_hash() -> None:
    first, second = new_refresh_token(), new_refresh_token()
    assert first != second and len(first) >= 43
    assert hash_refresh_token(first) == hash_refresh_token(first)
    assert first not in hash_refresh_token(first)
    assert len(hash_refresh_token(first)) == 64


def test_expired_but_genuine_token_is_read_when_expiry_is_waived(secret: str) -> None:
    issuer = tokens(SigningKeys.hs256(secret), ttl=60)
    issued = issuer.issue("usr_1", "ses_1", now=datetime.now(UTC) - timedelta(minutes=5))
    assert issuer.verify(issued.token, allow_expired=True).session_id == "ses_1"


def test_waiving_expiry_does_not_waive_the_signature(secret: str) -> None:
    forged = tokens(SigningKeys.hs256("x" * 40)).issue("usr_1", "ses_1")
    with pytest.raises(Unauthenticated, match="signature"):
        tokens(SigningKeys.hs256(secret)).verify(forged.token, allow_expired=True)
