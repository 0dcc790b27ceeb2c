"""Make Effects auth: JWT access tokens issued by the gateway and checked wherever a user acts."""

from makefx_auth.keys import Algorithm, KeyConfigError, SigningKeys
from makefx_auth.tokens import (
    AccessClaims,
    AccessTokens,
    IssuedToken,
    hash_refresh_token,
    new_refresh_token,
)

__all__ = [
    "AccessClaims",
    "AccessTokens",
    "Algorithm",
    "IssuedToken",
    "KeyConfigError",
    "SigningKeys",
    "hash_refresh_token",
    "new_refresh_token",
]
