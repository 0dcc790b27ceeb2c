"""The built browser app at `/`: client-side routes fall back to index.html; the API never does."""

from __future__ import annotations

import pytest


@pytest.fixture
def dist(tmp_path):
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><div id=root></div>")
    (root / "assets" / "app-3f2a1b.js").write_text("console.log('app')")
    (root / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("not for browsers")
    return root


@pytest.fixture(params=["sqlite"])
def database_url(request):
    """The frontend route does not touch the database: SQLite alone is enough here."""
    return None


async def test_the_app_and_its_hashed_assets_are_served_with_the_right_caching(make_settings, start_gateway, dist):
    gateway = await start_gateway(make_settings(frontend_dir=dist))
    client = gateway.client
    index = await client.get("/")
    assert index.status_code == 200 and "id=root" in index.text
    assert index.headers["cache-control"] == "no-cache"
    asset = await client.get("/assets/app-3f2a1b.js")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (await client.get("/favicon.svg")).headers["cache-control"] == "no-cache"


async def test_client_side_routes_get_index_html(make_settings, start_gateway, dist):
    gateway = await start_gateway(make_settings(frontend_dir=dist))
    for path in ("/spaces", "/spaces/spc_123/assets/ast_9", "/login?next=%2Fspaces"):
        response = await gateway.client.get(path)
        assert response.status_code == 200 and "id=root" in response.text, path


async def test_unknown_api_routes_stay_json_404s(make_settings, start_gateway, dist):
    gateway = await start_gateway(make_settings(frontend_dir=dist))
    response = await gateway.client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_paths_outside_the_app_folder_are_never_served(make_settings, start_gateway, dist):
    gateway = await start_gateway(make_settings(frontend_dir=dist))
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"):
        response = await gateway.client.get(path)
        assert "not for browsers" not in response.text, path


def test_a_frontend_dir_without_index_html_is_refused_at_start(make_settings, tmp_path):
    with pytest.raises(ValueError, match=r"no index\.html"):
        make_settings(frontend_dir=tmp_path)
