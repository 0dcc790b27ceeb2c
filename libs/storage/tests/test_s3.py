"""The S3 adapter against a real S3 server that checks signatures (SeaweedFS `weed mini`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from miniopy_async import Minio

from makefx_cli.nats_server import free_port
from makefx_storage import S3Store, StorageUnavailable
from makefx_storage.s3 import _host_and_scheme
from makefx_storage.seaweed import SeaweedS3


@pytest.fixture
async def bucket_store(make_s3_store: Callable[..., S3Store]) -> S3Store:
    store = make_s3_store()
    await store.start()
    return store


def tampered(url: str) -> str:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    signature = query["X-Amz-Signature"][0]
    query["X-Amz-Signature"] = [("0" if signature[0] != "0" else "1") + signature[1:]]
    return urlunsplit(parts._replace(query=urlencode({k: v[0] for k, v in query.items()})))


async def test_a_wrong_secret_key_is_refused(make_s3_store: Callable[..., S3Store], bucket_store: S3Store) -> None:
    await bucket_store.put("images/s1/v1.png", b"secret bytes", content_type="image/png")
    impostor = make_s3_store(secret_key="not-the-secret")
    with pytest.raises(StorageUnavailable) as refused:
        await impostor.stat("images/s1/v1.png")
    # A HEAD has no body to name the reason; the PUT's answer does.
    assert refused.value.details["s3Code"] == "AccessDenied"
    with pytest.raises(StorageUnavailable) as refused:
        await impostor.put("images/s1/v2.png", b"forged", content_type="image/png")
    assert refused.value.details["s3Code"] == "SignatureDoesNotMatch"
    assert await bucket_store.exists("images/s1/v2.png") is False


async def test_start_creates_a_missing_bucket_and_tolerates_an_existing_one(
    make_s3_store: Callable[..., S3Store],
) -> None:
    store = make_s3_store("created-by-start")
    await store.start()
    await make_s3_store("created-by-start").start()
    await store.put("images/s1/v1.png", b"x")
    assert await store.exists("images/s1/v1.png")


async def test_presigned_get_and_put_work_with_a_plain_http_client(bucket_store: S3Store) -> None:
    await bucket_store.put("images/s1/v1.png", b"0123456789", content_type="image/png")
    get_url = await bucket_store.presigned_get("images/s1/v1.png", timedelta(minutes=5))
    put_url = await bucket_store.presigned_put("staging/s1/v2", timedelta(minutes=5))
    assert get_url and put_url
    async with httpx.AsyncClient(timeout=10) as client:
        whole = await client.get(get_url)
        assert (whole.status_code, whole.content) == (200, b"0123456789")
        ranged = await client.get(get_url, headers={"Range": "bytes=2-4"})
        assert (ranged.status_code, ranged.content) == (206, b"234")
        uploaded = await client.put(put_url, content=b"uploaded by a browser", headers={"Content-Type": "image/png"})
        assert uploaded.status_code == 200, uploaded.text
    assert await (await bucket_store.get("staging/s1/v2")).read() == b"uploaded by a browser"


async def test_a_tampered_presigned_url_is_refused(bucket_store: S3Store) -> None:
    await bucket_store.put("images/s1/v1.png", b"private", content_type="image/png")
    get_url = await bucket_store.presigned_get("images/s1/v1.png", timedelta(minutes=5))
    put_url = await bucket_store.presigned_put("staging/s1/v2", timedelta(minutes=5))
    other_key = get_url.replace("images/s1/v1.png", "images/s1/v9.png")
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(tampered(get_url))).status_code == 403
        assert (await client.get(other_key)).status_code == 403
        assert (await client.put(tampered(put_url), content=b"forged")).status_code == 403
        assert (await client.get(get_url.split("?")[0])).status_code == 403
    assert await bucket_store.exists("staging/s1/v2") is False


async def test_an_expired_presigned_url_is_refused(s3_server: SeaweedS3, bucket_store: S3Store) -> None:
    await bucket_store.put("images/s1/v1.png", b"private", content_type="image/png")
    async with Minio(
        s3_server.endpoint, access_key=s3_server.access_key, secret_key=s3_server.secret_key, secure=False
    ) as client:
        expired = await client.presigned_get_object(
            bucket_store.bucket,
            "images/s1/v1.png",
            expires=timedelta(seconds=60),
            request_date=datetime.now(UTC) - timedelta(minutes=10),
        )
    async with httpx.AsyncClient(timeout=10) as http:
        assert (await http.get(expired)).status_code == 403


async def test_an_unreachable_endpoint_is_unavailable() -> None:
    store = S3Store(endpoint=f"127.0.0.1:{free_port()}", bucket="nowhere", access_key="a", secret_key="b", secure=False)
    try:
        with pytest.raises(StorageUnavailable):
            await store.stat("images/s1/v1.png")
    finally:
        await store.close()


def test_an_endpoint_url_decides_tls_from_its_scheme() -> None:
    assert _host_and_scheme("https://acct.r2.cloudflarestorage.com", False) == ("acct.r2.cloudflarestorage.com", True)
    assert _host_and_scheme("http://127.0.0.1:9000", True) == ("127.0.0.1:9000", False)
    assert _host_and_scheme("minio:9000", False) == ("minio:9000", False)
    with pytest.raises(ValueError):
        _host_and_scheme("https://host/bucket", True)
