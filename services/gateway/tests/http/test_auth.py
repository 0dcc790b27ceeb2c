"""`/api/auth` over real HTTP: accounts, tokens, sessions, cookies and login limits."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from makefx_auth import AccessTokens, SigningKeys


def session_id_of(access_token: str) -> str:
    return jwt.decode(access_token, options={"verify_signature": False})["sid"]


# -- register ------------------------------------------------------------------------------


async def test_register_answers_the_user_and_a_token_pair(client, register) -> None:
    account = await register("Ada")
    body = account.body
    assert set(body) == {"user", "accessToken", "refreshToken", "expiresAt"}
    assert set(body["user"]) == {"id", "email", "name", "createdAt"}
    assert body["user"]["id"].startswith("usr_")
    assert body["user"]["email"] == account.email
    assert "password" not in str(body).lower()
    me = await client.get("/api/auth/me", headers=account.headers)
    assert me.status_code == 200
    assert me.json() == {"user": body["user"]}


async def test_register_stores_the_email_lower_cased_and_trimmed(client, register) -> None:
    account = await register(email="  Ada.Lovelace@Example.COM ")
    assert account.body["user"]["email"] == "ada.lovelace@example.com"
    login = await client.post(
        "/api/auth/login", json={"email": "ada.lovelace@example.com", "password": account.password}
    )
    assert login.status_code == 200


async def test_register_with_a_taken_email_is_a_conflict(client, register, error) -> None:
    account = await register()
    again = await client.post(
        "/api/auth/register", json={"email": account.email.upper(), "password": "another password", "name": "Eve"}
    )
    assert again.status_code == 409
    assert error(again)["code"] == "CONFLICT"


async def test_register_with_a_short_password_says_which_field(client, error) -> None:
    response = await client.post(
        "/api/auth/register", json={"email": "ada@example.com", "password": "s3cr3t", "name": "A"}
    )
    assert response.status_code == 422
    body = error(response)
    assert body["code"] == "VALIDATION_ERROR"
    assert [item["loc"] for item in body["details"]["errors"]] == [["body", "password"]]
    assert "s3cr3t" not in response.text


async def test_register_with_a_malformed_email_says_which_field(client, error) -> None:
    response = await client.post("/api/auth/register", json={"email": "ada@", "password": "long enough", "name": "A"})
    assert response.status_code == 422
    assert [item["loc"] for item in error(response)["details"]["errors"]] == [["body", "email"]]


async def test_register_with_a_blank_name_is_refused(client, error) -> None:
    response = await client.post(
        "/api/auth/register", json={"email": "a@example.com", "password": "long enough", "name": "  "}
    )
    assert response.status_code == 422
    assert [item["loc"] for item in error(response)["details"]["errors"]] == [["body", "name"]]


# -- login ---------------------------------------------------------------------------------


async def test_login_answers_a_new_session(client, register) -> None:
    account = await register()
    login = await client.post("/api/auth/login", json={"email": account.email, "password": account.password})
    assert login.status_code == 200
    body = login.json()
    assert body["user"] == account.body["user"]
    assert session_id_of(body["accessToken"]) != session_id_of(account.access_token)
    assert body["refreshToken"] != account.refresh_token


async def test_wrong_password_and_unknown_account_get_the_identical_answer(client, register, error) -> None:
    account = await register()
    wrong = await client.post("/api/auth/login", json={"email": account.email, "password": "not the password"})
    unknown = await client.post("/api/auth/login", json={"email": "nobody@example.com", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert error(wrong)["message"] == "wrong email or password"
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"] == "Bearer"


async def test_login_attempts_per_account_are_limited(make_settings, start_gateway, error) -> None:
    gateway = await start_gateway(make_settings(login_attempts_per_email=3, login_attempts_per_address=100))
    client = gateway.client
    email, password = "ada@example.com", "correct password"
    assert (
        await client.post("/api/auth/register", json={"email": email, "password": password, "name": "Ada"})
    ).status_code == 201
    for _ in range(3):
        assert (
            await client.post("/api/auth/login", json={"email": email, "password": "wrong pass"})
        ).status_code == 401
    limited = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert limited.status_code == 429
    body = error(limited)
    assert body["code"] == "RATE_LIMITED" and body["details"]["scope"] == "account"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    other = await client.post("/api/auth/login", json={"email": "bob@example.com", "password": "wrong pass"})
    assert other.status_code == 401


async def test_login_attempts_per_address_are_limited(make_settings, start_gateway, error) -> None:
    gateway = await start_gateway(make_settings(login_attempts_per_email=100, login_attempts_per_address=4))
    client = gateway.client
    for index in range(4):
        response = await client.post(
            "/api/auth/login", json={"email": f"u{index}@example.com", "password": "whatever1"}
        )
        assert response.status_code == 401
    limited = await client.post("/api/auth/login", json={"email": "fresh@example.com", "password": "whatever1"})
    assert limited.status_code == 429
    assert error(limited)["details"]["scope"] == "address"
    assert int(limited.headers["retry-after"]) >= 1


# -- access tokens -------------------------------------------------------------------------


async def test_me_without_credentials_is_unauthenticated(client, error) -> None:
    response = await client.get("/api/auth/me")
    assert response.status_code == 401
    assert error(response)["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_an_expired_access_token_is_refused_as_expired(client, register, error, access_tokens) -> None:
    account = await register()
    expired = access_tokens.issue(
        account.id, session_id_of(account.access_token), now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    )
    response = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {expired.token}"})
    assert response.status_code == 401
    assert error(response)["message"] == "access token expired"
    assert error(response)["details"] == {"reason": "expired"}


async def test_a_token_signed_with_another_secret_is_refused_as_invalid(client, register, error) -> None:
    account = await register()
    forger = AccessTokens(SigningKeys.hs256("z" * 48), issuer="makefx", ttl_seconds=60)
    forged = forger.issue(account.id, session_id_of(account.access_token))
    response = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {forged.token}"})
    assert response.status_code == 401
    assert error(response)["details"] == {"reason": "invalid"}
    assert "signature" in error(response)["message"]


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not.a.jwt", "Token abc"])
async def test_a_malformed_authorization_header_is_unauthenticated(client, header: str, error) -> None:
    response = await client.get("/api/auth/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert error(response)["code"] == "UNAUTHENTICATED"


async def test_rs256_gateway_issues_tokens_verifiable_with_its_public_key(
    make_settings, start_gateway, access_tokens
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    gateway = await start_gateway(make_settings(jwt_algorithm="RS256", jwt_secret=None, jwt_private_key=private))
    client = gateway.client
    registered = await client.post(
        "/api/auth/register", json={"email": "ada@example.com", "password": "correct password", "name": "Ada"}
    )
    assert registered.status_code == 201
    token = registered.json()["accessToken"]
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = AccessTokens(SigningKeys.rs256(public_key=public.decode()), issuer="makefx", ttl_seconds=60).verify(token)
    assert claims.user_id == registered.json()["user"]["id"]
    assert (await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    hs256 = access_tokens.issue(claims.user_id, claims.session_id)
    refused = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {hs256.token}"})
    assert refused.status_code == 401


# -- refresh -------------------------------------------------------------------------------


async def test_refresh_rotates_the_refresh_token_and_the_old_one_stops_working(client, register, error) -> None:
    account = await register()
    refreshed = await client.post("/api/auth/refresh", json={"refreshToken": account.refresh_token})
    assert refreshed.status_code == 200
    body = refreshed.json()
    assert set(body) == {"user", "accessToken", "refreshToken", "expiresAt"}
    assert body["refreshToken"] != account.refresh_token
    assert session_id_of(body["accessToken"]) == session_id_of(account.access_token)
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['accessToken']}"})
    assert me.status_code == 200
    replayed = await client.post("/api/auth/refresh", json={"refreshToken": account.refresh_token})
    assert replayed.status_code == 401
    assert error(replayed)["code"] == "UNAUTHENTICATED"
    again = await client.post("/api/auth/refresh", json={"refreshToken": body["refreshToken"]})
    assert again.status_code == 200


async def test_concurrent_refreshes_with_one_token_give_one_new_pair(client, register) -> None:
    account = await register()
    results = await asyncio.gather(
        *(client.post("/api/auth/refresh", json={"refreshToken": account.refresh_token}) for _ in range(4))
    )
    assert sorted(response.status_code for response in results) == [200, 401, 401, 401]


async def test_an_unknown_refresh_token_is_refused(client, error) -> None:
    response = await client.post("/api/auth/refresh", json={"refreshToken": "never-issued"})
    assert response.status_code == 401
    assert error(response)["details"] == {"reason": "invalid"}


async def test_an_access_token_is_not_a_refresh_token(client, register) -> None:
    account = await register()
    response = await client.post("/api/auth/refresh", json={"refreshToken": account.access_token})
    assert response.status_code == 401


# -- logout --------------------------------------------------------------------------------


async def test_logout_with_the_refresh_token_ends_that_session(client, register) -> None:
    account = await register()
    logout = await client.post("/api/auth/logout", json={"refreshToken": account.refresh_token})
    assert logout.status_code == 204
    assert (await client.post("/api/auth/refresh", json={"refreshToken": account.refresh_token})).status_code == 401
    assert (await client.get("/api/auth/me", headers=account.headers)).status_code == 401


async def test_logout_with_the_access_token_ends_its_session(client, register, error) -> None:
    account = await register()
    logout = await client.post("/api/auth/logout", headers=account.headers)
    assert logout.status_code == 204
    refused = await client.post("/api/auth/refresh", json={"refreshToken": account.refresh_token})
    assert refused.status_code == 401
    me = await client.get("/api/auth/me", headers=account.headers)
    assert me.status_code == 401
    assert error(me)["details"] == {"reason": "revoked"}


async def test_logout_leaves_the_users_other_sessions_alone(client, register) -> None:
    account = await register()
    second = (await client.post("/api/auth/login", json={"email": account.email, "password": account.password})).json()
    assert (await client.post("/api/auth/logout", headers=account.headers)).status_code == 204
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {second['accessToken']}"})
    assert me.status_code == 200


async def test_logout_with_an_expired_access_token_still_ends_its_session(client, register, access_tokens) -> None:
    account = await register()
    expired = access_tokens.issue(
        account.id, session_id_of(account.access_token), now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    )
    logout = await client.post("/api/auth/logout", headers={"Authorization": f"Bearer {expired.token}"})
    assert logout.status_code == 204
    assert (await client.post("/api/auth/refresh", json={"refreshToken": account.refresh_token})).status_code == 401


async def test_logout_without_any_credential_is_unauthenticated(client) -> None:
    assert (await client.post("/api/auth/logout")).status_code == 401


async def test_logout_is_idempotent(client, register) -> None:
    account = await register()
    for _ in range(2):
        response = await client.post("/api/auth/logout", json={"refreshToken": account.refresh_token})
        assert response.status_code == 204


# -- the access cookie ---------------------------------------------------------------------


async def test_login_sets_an_http_only_lax_cookie_that_authenticates(gateway, register) -> None:
    account = await register()
    async with httpx.AsyncClient(base_url=gateway.url) as browser:
        login = await browser.post("/api/auth/login", json={"email": account.email, "password": account.password})
        cookie = login.headers["set-cookie"]
        assert cookie.startswith("makefx_access=")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/api" in cookie
        assert "Secure" not in cookie
        assert (await browser.get("/api/auth/me")).status_code == 200
        logout = await browser.post("/api/auth/logout")
        assert logout.status_code == 204
        assert 'makefx_access=""' in logout.headers["set-cookie"] or "Max-Age=0" in logout.headers["set-cookie"]
        assert "makefx_access" not in browser.cookies
        assert (await browser.get("/api/auth/me")).status_code == 401


async def test_the_cookie_is_secure_when_configured(make_settings, start_gateway) -> None:
    gateway = await start_gateway(make_settings(access_cookie_secure=True))
    registered = await gateway.client.post(
        "/api/auth/register", json={"email": "ada@example.com", "password": "correct password", "name": "Ada"}
    )
    assert "Secure" in registered.headers["set-cookie"]


async def test_a_bearer_header_wins_over_the_cookie(gateway, register) -> None:
    ada, bob = await register("Ada"), await register("Bob")
    async with httpx.AsyncClient(base_url=gateway.url, cookies={"makefx_access": ada.access_token}) as browser:
        me = await browser.get("/api/auth/me", headers=bob.headers)
        assert me.json()["user"]["id"] == bob.id


async def test_login_upgrades_a_hash_made_with_older_cost_parameters(make_settings, start_gateway, store) -> None:
    old = await start_gateway(make_settings(argon2_time_cost=1))
    email, password = "ada@example.com", "correct password"
    registered = await old.client.post("/api/auth/register", json={"email": email, "password": password, "name": "Ada"})
    user_id = registered.json()["user"]["id"]
    async with store.transaction() as tx:
        before = await tx.user(user_id)
    assert before is not None and "t=1," in before.password_hash

    new = await start_gateway(make_settings(argon2_time_cost=2))
    assert (await new.client.post("/api/auth/login", json={"email": email, "password": password})).status_code == 200
    async with store.transaction() as tx:
        after = await tx.user(user_id)
    assert after is not None and "t=2," in after.password_hash
    assert (await old.client.post("/api/auth/login", json={"email": email, "password": password})).status_code == 200
