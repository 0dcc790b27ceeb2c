"""`sync:state` as the socket composes it: the protocol's shape, and the media CDN when one is configured."""

from __future__ import annotations

from makefx_contracts.socket import SyncState


async def test_sync_state_names_the_media_cdn_base_url_when_one_is_configured(
    shared_space, connect, start_gateway, make_settings
):
    cdn = await start_gateway(make_settings(media_cdn_base_url="https://cdn.example.com/media/"))
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token, url=cdn.url)
    await owner.mutate("asset:create", name="Hero", assetType="character")

    state = await owner.sync()
    assert state["mediaCdnBaseUrl"] == "https://cdn.example.com/media"
    parsed = SyncState.model_validate(state)
    assert parsed.media_cdn_base_url == "https://cdn.example.com/media"
    assert [asset.name for asset in parsed.assets] == ["Hero"]


async def test_sync_state_leaves_the_media_cdn_out_when_none_is_configured(shared_space, connect):
    space = await shared_space()
    owner = await connect(space.id, space.owner.access_token)
    await owner.mutate("asset:create", name="Hero", assetType="character")

    state = await owner.sync()
    assert "mediaCdnBaseUrl" not in state
    parsed = SyncState.model_validate(state)
    assert parsed.media_cdn_base_url is None and parsed.seq == 1
