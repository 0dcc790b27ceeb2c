"""The rules of a space, pure: permissions, parent checks, partial updates, forks, the next active variant."""

from __future__ import annotations

import pytest

from makefx_contracts.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from makefx_contracts.identity import Role
from makefx_contracts.rows import AssetRow, LineageRow, VariantRow, VariantStatus
from makefx_contracts.space import Actor, AssetChanges
from makefx_space_state import domain

OWNER = Actor(user_id="o", role=Role.OWNER)
EDITOR = Actor(user_id="e", role=Role.EDITOR)
VIEWER = Actor(user_id="v", role=Role.VIEWER)


def asset(asset_id: str = "a", **fields: object) -> AssetRow:
    return AssetRow(id=asset_id, name="Hero", type="character", created_by="o", created_at=1, **fields)


def variant(variant_id: str = "v", **fields: object) -> VariantRow:
    values = {"asset_id": "a", "status": VariantStatus.COMPLETED, "recipe": "{}", "created_by": "o", "created_at": 1}
    return VariantRow(id=variant_id, **(values | fields))


def test_editors_and_owners_edit_viewers_do_not():
    domain.require_editor(OWNER, "x")
    domain.require_editor(EDITOR, "x")
    with pytest.raises(PermissionDenied) as refused:
        domain.require_editor(VIEWER, "renaming")
    assert refused.value.details == {"role": "viewer", "needs": "editor"}


def test_only_owners_pass_the_owner_rule():
    domain.require_owner(OWNER, "x")
    for actor in (EDITOR, VIEWER):
        with pytest.raises(PermissionDenied, match="deleting needs the owner role"):
            domain.require_owner(actor, "deleting")


def test_space_ids_are_single_safe_tokens():
    domain.require_space_id("abc-DEF_123")
    for bad in ("a/b", "a.b", "..", "a b", "a\n", ""):
        with pytest.raises(ValidationFailed):
            domain.require_space_id(bad)


def test_deleted_or_missing_assets_are_not_found():
    assert domain.live_asset(asset(), "a").id == "a"
    with pytest.raises(NotFound):
        domain.live_asset(None, "a")
    with pytest.raises(NotFound):
        domain.live_asset(asset(deleted_at=5), "a")


def test_a_parent_must_be_live_and_not_a_descendant():
    domain.check_parent("a", asset("p"), "p", ["q", "r"])
    domain.check_parent(None, asset("p"), "p", [])
    with pytest.raises(NotFound):
        domain.check_parent("a", None, "p", [])
    with pytest.raises(NotFound):
        domain.check_parent("a", asset("p", deleted_at=1), "p", [])
    with pytest.raises(ValidationFailed, match="own parent"):
        domain.check_parent("a", asset("a"), "a", [])
    with pytest.raises(ValidationFailed, match="cycle"):
        domain.check_parent("a", asset("p"), "p", ["q", "a"])


def test_changes_touch_only_the_fields_sent():
    original = asset(parent_asset_id="p", position_x=3, position_y=4, tags='["old"]')
    changed = domain.changed_asset(original, AssetChanges(name="New"), now=99)
    assert (changed.name, changed.parent_asset_id, changed.position_x, changed.tags, changed.updated_at) == (
        "New",
        "p",
        3.0,
        '["old"]',
        99,
    )
    detached = domain.changed_asset(original, AssetChanges.model_validate({"parentAssetId": None}), now=99)
    assert detached.parent_asset_id is None and detached.name == "Hero"
    tagged = domain.changed_asset(original, AssetChanges(tags=["é", "b"]), now=99)
    assert tagged.tags == '["é","b"]'


def test_completed_and_severed_rules():
    domain.require_completed(variant(), "forking")
    with pytest.raises(InvalidState, match="failed"):
        domain.require_completed(variant(status=VariantStatus.FAILED), "forking")
    link = LineageRow(id="l", parent_variant_id="v1", child_variant_id="v2", relation_type="derived", created_at=1)
    domain.require_not_severed(link)
    with pytest.raises(InvalidState):
        domain.require_not_severed(domain.severed(link))


def test_a_forked_variant_keeps_media_and_recipe_but_not_identity_workflow_or_star():
    source = variant(workflow_id="wf-1", starred=1, image_key="images/s/v.png", updated_at=7, poster_key="p")
    fork = domain.forked_variant(source, variant_id="v2", asset_id="a2", actor=EDITOR, now=50)
    assert (fork.id, fork.asset_id, fork.workflow_id, fork.starred, fork.created_by, fork.created_at) == (
        "v2",
        "a2",
        None,
        0,
        "e",
        50,
    )
    assert (fork.image_key, fork.recipe, fork.poster_key, fork.updated_at) == ("images/s/v.png", "{}", "p", None)


def test_the_next_active_variant_is_the_newest_completed_one():
    candidates = [
        variant("old", created_at=1),
        variant("new", created_at=5),
        variant("newest-failed", created_at=9, status=VariantStatus.FAILED),
        variant("pending", created_at=10, status=VariantStatus.PENDING),
    ]
    assert domain.next_active_variant(candidates).id == "new"
    assert domain.next_active_variant(candidates[2:]) is None
    assert domain.next_active_variant([]) is None


def test_starring_to_the_same_value_changes_nothing():
    assert domain.starred_variant(variant(starred=1), True, now=2) is None
    assert domain.starred_variant(variant(starred=0), True, now=2).starred == 1
