"""Access tokens (short-lived JWTs) and refresh tokens (opaque random strings, stored hashed)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from makefx_auth.keys import KeyConfigError, SigningKeys
from makefx_contracts.errors import Unauthenticated

ACCESS_TYPE = "access"
_REQUIRED_CLAIMS = ["sub", "sid", "jti", "iat", "exp", "iss", "typ"]


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token says: who acts, in which session, until when."""

    user_id: str
    session_id: str
    token_id: str
    issued_at: datetime
    expires_at: datetime
    issuer: str


@dataclass(frozen=True)
class IssuedToken:
    token: str
    claims: AccessClaims

    @property
    def expires_at(self) -> datetime:
        return self.claims.expires_at


class AccessTokens:
    """Issues and verifies access tokens with one algorithm; never accepts another (no `alg` confusion)."""

    def __init__(self, keys: SigningKeys, *, issuer: str, ttl_seconds: int, leeway_seconds: float = 0) -> None:
        if ttl_seconds <= 0:
            raise KeyConfigError("the access token lifetime must be positive")
        self.keys = keys
        self.issuer = issuer
        self.ttl = timedelta(seconds=ttl_seconds)
        self.leeway = leeway_seconds

    def issue(self, user_id: str, session_id: str, *, now: datetime | None = None) -> IssuedToken:
        if not self.keys.can_sign:
            raise KeyConfigError("these keys can only verify tokens: configure the private key to issue them")
        issued_at = (now or datetime.now(UTC)).replace(microsecond=0)
        claims = AccessClaims(
            user_id=user_id,
            session_id=session_id,
            token_id=uuid.uuid4().hex,
            issued_at=issued_at,
            expires_at=issued_at + self.ttl,
            issuer=self.issuer,
        )
        payload = {
            "sub": claims.user_id,
            "sid": claims.session_id,
            "jti": claims.token_id,
            "iat": int(claims.issued_at.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
            "iss": claims.issuer,
            "typ": ACCESS_TYPE,
        }
        token = jwt.encode(payload, self.keys.signing_key, algorithm=self.keys.algorithm)
        return IssuedToken(token=token, claims=claims)

    def verify(self, token: str, *, allow_expired: bool = False) -> AccessClaims:
        """The token's claims, or `Unauthenticated` saying whether it expired or is invalid.

        `allow_expired` accepts a genuine token past its expiry: enough to name the
        session to end at logout, never enough to act.
        """
        try:
            payload = jwt.decode(
                token,
                self.keys.verifying_key,
                algorithms=[self.keys.algorithm],
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": _REQUIRED_CLAIMS, "verify_exp": not allow_expired},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("access token expired", details={"reason": "expired"}) from None
        except jwt.InvalidIssuerError:
            raise _invalid("it was issued by another issuer") from None
        except jwt.MissingRequiredClaimError as error:
            raise _invalid(f"the {error.claim!r} claim is missing") from None
        except jwt.ImmatureSignatureError:
            raise _invalid("it is issued in the future") from None
        except jwt.InvalidSignatureError:
            raise _invalid("the signature does not match") from None
        except jwt.InvalidAlgorithmError:
            raise _invalid(f"it is not signed with {self.keys.algorithm}") from None
        except jwt.InvalidTokenError:
            raise _invalid("it is not a well-formed token") from None
        if payload["typ"] != ACCESS_TYPE:
            raise _invalid(f"it is a {payload['typ']!r} token, not an access token")
        for claim in ("sub", "sid", "jti"):
            if not isinstance(payload[claim], str) or not payload[claim]:
                raise _invalid(f"the {claim!r} claim is not a string")
        return AccessClaims(
            user_id=payload["sub"],
            session_id=payload["sid"],
            token_id=payload["jti"],
            issued_at=datetime.fromtimestamp(payload["iat"], UTC),
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            issuer=payload["iss"],
        )


def _invalid(why: str) -> Unauthenticated:
    return Unauthenticated(f"access token is invalid: {why}", details={"reason": "invalid"})


def new_refresh_token() -> str:
    """An opaque refresh token: 256 random bits, URL-safe. Only its hash is ever stored."""
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    """The stored form of a refresh token. SHA-256 suffices: the token is random, not a password."""
    return hashlib.sha256(token.encode()).hexdigest()
