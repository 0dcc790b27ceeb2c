"""Bad input over real HTTP: always the error envelope with a 4xx, never a 500."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "payload",
    [b'{"email": "ada@example.com", "password": ', b"not json at all", b"\xff\xfe\x00"],
    ids=["truncated", "text", "binary"],
)
async def test_malformed_json_is_a_validation_error(client, error, payload: bytes) -> None:
    response = await client.post("/api/auth/register", content=payload, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    body = error(response)
    assert body["code"] == "VALIDATION_ERROR"
    assert body["details"]["errors"][0]["loc"][0] == "body"


async def test_json_that_is_not_an_object_is_a_validation_error(client, error) -> None:
    response = await client.post("/api/auth/login", json=["ada@example.com", "password"])
    assert response.status_code == 422
    assert error(response)["code"] == "VALIDATION_ERROR"


async def test_an_unknown_field_is_refused_by_name(client, error) -> None:
    response = await client.post(
        "/api/auth/register",
        json={"email": "ada@example.com", "password": "long enough", "name": "Ada", "isAdmin": True},
    )
    assert response.status_code == 422
    assert [item["loc"] for item in error(response)["details"]["errors"]] == [["body", "isAdmin"]]


async def test_a_field_of_the_wrong_type_is_refused_by_name(client, error) -> None:
    response = await client.post("/api/auth/login", json={"email": 42, "password": ["x"]})
    assert response.status_code == 422
    locs = sorted(tuple(item["loc"]) for item in error(response)["details"]["errors"])
    assert locs == [("body", "email"), ("body", "password")]
    assert "(and 1 more)" in error(response)["message"]


async def test_a_missing_body_is_a_validation_error(client, error) -> None:
    response = await client.post("/api/auth/login")
    assert response.status_code == 422
    assert error(response)["code"] == "VALIDATION_ERROR"


async def test_snake_case_field_names_are_accepted_too(client, register) -> None:
    """Models validate by alias and by name; the wire documents camelCase."""
    account = await register()
    response = await client.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    assert response.status_code == 200


async def test_a_body_declared_too_large_is_refused_before_it_is_read(client, settings, error) -> None:
    payload = b'{"name": "' + b"x" * settings.max_body_bytes + b'"}'
    response = await client.post("/api/spaces", content=payload, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert error(response)["code"] == "VALIDATION_ERROR"
    assert error(response)["details"] == {"maxBytes": settings.max_body_bytes}


async def test_a_streamed_body_growing_too_large_is_cut_off(client, register, settings, error) -> None:
    account = await register()

    async def chunks():
        yield b'{"name": "'
        for _ in range(settings.max_body_bytes // 1024 + 2):
            yield b"x" * 1024
        yield b'"}'

    response = await client.post(
        "/api/spaces", content=chunks(), headers={**account.headers, "Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert error(response)["code"] == "VALIDATION_ERROR"


async def test_a_body_just_under_the_limit_is_read(client, register, settings) -> None:
    account = await register()
    payload = b'{"name": "ok"' + b" " * (settings.max_body_bytes - 20) + b"}"
    response = await client.post(
        "/api/spaces", content=payload, headers={**account.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 201


async def test_an_unknown_route_is_not_found_in_the_envelope(client, error) -> None:
    response = await client.get("/api/nothing-here")
    assert response.status_code == 404
    assert error(response) == {"code": "NOT_FOUND", "message": "no such route", "details": {}}


async def test_a_wrong_method_is_refused_in_the_envelope(client, error) -> None:
    response = await client.put("/api/auth/login", json={})
    assert response.status_code == 405
    assert error(response)["code"] == "VALIDATION_ERROR"
    assert "POST" in response.headers["allow"]


async def test_the_openapi_document_describes_the_api(client) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    for path in ("/api/auth/register", "/api/auth/login", "/api/auth/refresh", "/api/auth/logout", "/api/auth/me"):
        assert path in document["paths"]
    members = document["paths"]["/api/spaces/{spaceId}/members/{userId}"]
    assert members["patch"]["operationId"] == "change_role"
    assert [parameter["name"] for parameter in members["patch"]["parameters"]] == ["spaceId", "userId"]
    assert {"HTTPBearer", "APIKeyCookie"} <= set(document["components"]["securitySchemes"])
    register_schema = document["components"]["schemas"]["Register"]
    assert set(register_schema["properties"]) == {"email", "password", "name"}
    assert set(document["components"]["schemas"]["AuthSession"]["properties"]) == {
        "user",
        "accessToken",
        "refreshToken",
        "expiresAt",
    }


async def test_readiness_includes_the_database(client) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["problems"] == []
