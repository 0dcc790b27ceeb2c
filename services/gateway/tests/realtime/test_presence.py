"""Presence merges this gateway's connections with other gateways' beacons until they expire."""

from makefx_contracts.presence import PresenceEntry
from makefx_gateway.realtime.hub import PRESENCE_BATCH_MAX_SECONDS, PRESENCE_BATCH_SECONDS, presence_window
from makefx_gateway.realtime.presence import PresenceBoard, local_entries


def test_local_entries_count_connections_per_user_and_keep_a_view():
    entries = local_entries([("u1", "Ada", None), ("u1", "Ada", "ast_9"), ("u2", "Grace", None)])
    by_user = {entry.user_id: entry for entry in entries}
    assert by_user["u1"].connections == 2 and by_user["u1"].viewing == "ast_9"
    assert by_user["u2"].connections == 1


def test_beacons_from_other_gateways_merge_and_expire():
    here = PresenceBoard(gateway_id="gw-a", ttl_ms=1000)
    there = PresenceBoard(gateway_id="gw-b", ttl_ms=1000)
    beacon = there.beacon("spc", [PresenceEntry(user_id="u2", name="Grace"), PresenceEntry(user_id="u1", name="Ada")])
    assert here.absorb(beacon, now=0.0) is True
    assert here.absorb(beacon, now=0.1) is False
    merged = here.merged("spc", [PresenceEntry(user_id="u1", name="Ada", viewing="ast_1")])
    assert [(e.user_id, e.connections, e.viewing) for e in merged] == [("u1", 2, "ast_1"), ("u2", 1, None)]
    assert here.expire(now=5.0) == {"spc"}
    assert here.merged("spc", []) == []


def test_a_gateway_ignores_its_own_beacon():
    board = PresenceBoard(gateway_id="gw-a")
    assert board.absorb(board.beacon("spc", [PresenceEntry(user_id="u1", name="Ada")])) is False


def test_an_empty_beacon_forgets_its_gateway_so_that_its_return_is_news():
    here = PresenceBoard(gateway_id="gw-a")
    there = PresenceBoard(gateway_id="gw-b")
    ada = [PresenceEntry(user_id="u1", name="Ada")]
    assert here.is_news(there.beacon("spc", ada)) is True
    assert here.absorb(there.beacon("spc", ada)) is True
    assert here.is_news(there.beacon("spc", ada)) is False

    assert here.absorb(there.beacon("spc", [])) is True
    assert here.merged("spc", []) == []
    assert here.is_news(there.beacon("spc", ada)) is True
    assert here.absorb(there.beacon("spc", [])) is False


def test_neither_a_gateways_own_beacon_nor_an_empty_one_is_news():
    board = PresenceBoard(gateway_id="gw-a")
    assert board.is_news(board.beacon("spc", [PresenceEntry(user_id="u1", name="Ada")])) is False
    assert board.is_news(PresenceBoard(gateway_id="gw-b").beacon("spc", [])) is False


def test_a_small_room_hears_of_a_newcomer_at_once_and_a_big_one_gathers_changes_longer():
    assert presence_window(1) == presence_window(100) == PRESENCE_BATCH_SECONDS
    assert presence_window(100) < presence_window(500) < presence_window(1_000) <= PRESENCE_BATCH_MAX_SECONDS
    assert presence_window(100_000) == PRESENCE_BATCH_MAX_SECONDS
