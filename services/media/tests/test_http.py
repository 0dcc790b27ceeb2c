"""The byte endpoint over real HTTP: signed GET with ranges, signed PUT, and every way a URL is refused.

Run on the directory store and on S3 with direct URLs off (bytes then pass through the
media service, as when the bucket is not reachable from browsers).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest

from makefx_contracts.media import SignMethod
from makefx_media.settings import MediaSettings
from makefx_media.signing import UrlSigner

from .conftest import SIGNING_SECRET, RunningMedia

BODY = bytes(range(256)) * 40  # 10 240 bytes


@pytest.fixture
async def media(
    start_media: Callable[[MediaSettings], Awaitable[RunningMedia]], make_settings: Callable[..., MediaSettings]
) -> RunningMedia:
    running = await start_media(
        make_settings(media_direct_urls=False, max_image_bytes=20_000, max_audio_bytes=1, max_video_bytes=1)
    )
    await running.store.put("images/spc_1/var_1.png", BODY, content_type="image/png")
    return running


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


async def test_a_signed_get_returns_the_object_with_cache_and_safety_headers(media: RunningMedia) -> None:
    response = await media.http.get(await media.sign("images/spc_1/var_1.png"))
    assert response.status_code == 200
    assert response.content == BODY
    headers = response.headers
    assert headers["content-type"] == "image/png"
    assert headers["content-length"] == str(len(BODY))
    assert headers["accept-ranges"] == "bytes"
    assert headers["etag"] == f'"{(await media.store.stat("images/spc_1/var_1.png")).etag}"'
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"].startswith("private, max-age=")
    assert 0 < int(headers["cache-control"].rsplit("=", 1)[1]) <= 300
    assert "last-modified" in headers


@pytest.mark.parametrize(
    ("asked", "content_range", "expected"),
    [
        ("bytes=10-19", "bytes 10-19/10240", BODY[10:20]),
        ("bytes=10200-", "bytes 10200-10239/10240", BODY[10200:]),
        ("bytes=-5", "bytes 10235-10239/10240", BODY[-5:]),
        ("bytes=10230-99999", "bytes 10230-10239/10240", BODY[10230:]),
    ],
)
async def test_a_range_gets_206_with_exactly_those_bytes(
    media: RunningMedia, asked: str, content_range: str, expected: bytes
) -> None:
    response = await media.http.get(await media.sign("images/spc_1/var_1.png"), headers={"Range": asked})
    assert response.status_code == 206
    assert response.headers["content-range"] == content_range
    assert response.headers["content-length"] == str(len(expected))
    assert response.content == expected


async def test_a_range_past_the_end_gets_416_with_the_size(media: RunningMedia) -> None:
    response = await media.http.get(await media.sign("images/spc_1/var_1.png"), headers={"Range": "bytes=10240-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */10240"


async def test_if_range_with_a_stale_etag_gets_the_whole_object(media: RunningMedia) -> None:
    url = await media.sign("images/spc_1/var_1.png")
    stale = await media.http.get(url, headers={"Range": "bytes=0-9", "If-Range": '"not-the-etag"'})
    assert (stale.status_code, stale.content) == (200, BODY)
    etag = stale.headers["etag"]
    fresh = await media.http.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert (fresh.status_code, fresh.content) == (206, BODY[:10])


async def test_head_answers_the_headers_without_the_body(media: RunningMedia) -> None:
    response = await media.http.head(await media.sign("images/spc_1/var_1.png"))
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(BODY))
    assert response.content == b""


async def test_a_missing_object_is_404(media: RunningMedia) -> None:
    response = await media.http.get(await media.sign("images/spc_1/nothing.png"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_a_signed_put_stores_the_upload_like_s3(media: RunningMedia) -> None:
    url = await media.sign("staging/spc_1/var_2", SignMethod.PUT)
    response = await media.http.put(url, content=BODY, headers={"Content-Type": "image/png"})
    assert response.status_code == 200
    info = await media.store.stat("staging/spc_1/var_2")
    assert response.headers["etag"] == f'"{info.etag}"'
    assert (info.size, info.content_type) == (len(BODY), "image/png")
    assert await media.read("staging/spc_1/var_2") == BODY


async def test_a_browser_on_another_origin_may_put_to_a_signed_url_without_credentials(media: RunningMedia) -> None:
    url = await media.sign("staging/spc_1/var_2", SignMethod.PUT)
    origin = {"Origin": "http://127.0.0.1:8000"}
    preflight = await media.http.options(
        url,
        headers=origin | {"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "PUT" in preflight.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in preflight.headers
    stored = await media.http.put(url, content=BODY, headers=origin | {"Content-Type": "image/png"})
    assert stored.status_code == 200
    assert stored.headers["access-control-allow-origin"] == "*"
    assert "etag" in stored.headers["access-control-expose-headers"].lower()


async def test_an_upload_declared_as_a_page_is_stored_as_plain_bytes(media: RunningMedia) -> None:
    url = await media.sign("staging/spc_1/var_2", SignMethod.PUT)
    await media.http.put(url, content=b"<html><script>alert(1)</script>", headers={"Content-Type": "text/html"})
    assert (await media.store.stat("staging/spc_1/var_2")).content_type == "application/octet-stream"
    served = await media.http.get(await media.sign("staging/spc_1/var_2"))
    assert served.headers["content-type"] == "application/octet-stream"
    assert "sandbox" in served.headers["content-security-policy"]


async def test_an_upload_over_the_limit_is_413_and_nothing_is_stored(media: RunningMedia) -> None:
    url = await media.sign("staging/spc_1/var_3", SignMethod.PUT)
    declared = await media.http.put(url, content=b"x" * 20_001)
    assert declared.status_code == 413

    async def chunks():
        for _ in range(30):
            yield b"x" * 1000

    streamed = await media.http.put(url, content=chunks())  # chunked: no Content-Length to trust
    assert streamed.status_code == 413
    assert await media.store.exists("staging/spc_1/var_3") is False


@pytest.mark.parametrize("change", ["signature", "expires", "key", "method", "missing"])
async def test_an_altered_or_unsigned_url_is_403(media: RunningMedia, change: str) -> None:
    url = await media.sign("images/spc_1/var_1.png")
    signature = parse_qs(urlsplit(url).query)["signature"][0]
    if change == "signature":
        response = await media.http.get(
            with_query(url, signature=("A" if signature[0] != "A" else "B") + signature[1:])
        )
    elif change == "expires":
        response = await media.http.get(with_query(url, expires=str(int(time.time()) + 10_000)))
    elif change == "key":
        await media.store.put("images/spc_1/var_9.png", b"other", content_type="image/png")
        response = await media.http.get(url.replace("var_1.png", "var_9.png"))
    elif change == "method":
        # A GET signature for a staging key does not allow a PUT to it.
        response = await media.http.put(await media.sign("staging/spc_1/var_1", SignMethod.GET), content=b"x")
    else:
        response = await media.http.get(url.split("?")[0])
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"


async def test_an_expired_url_is_403(media: RunningMedia) -> None:
    signer = UrlSigner(SIGNING_SECRET.encode(), media.url)
    expired = signer.url(SignMethod.GET, "images/spc_1/var_1.png", int(time.time()) - 1)
    response = await media.http.get(expired)
    assert response.status_code == 403
    assert "expired" in response.json()["error"]["message"]


async def test_a_put_signature_for_a_final_key_is_still_refused(media: RunningMedia) -> None:
    signer = UrlSigner(SIGNING_SECRET.encode(), media.url)
    forged = signer.url(SignMethod.PUT, "images/spc_1/var_1.png", int(time.time()) + 60)
    response = await media.http.put(forged, content=b"overwrite")
    assert response.status_code == 403
    assert await media.read("images/spc_1/var_1.png") == BODY
