"""The rules of who may do what in a space, and the shape of emails and ids."""

from __future__ import annotations

import pytest

from makefx_contracts.errors import InvalidState, NotFound, PermissionDenied
from makefx_contracts.http import is_email
from makefx_contracts.identity import Role
from makefx_gateway import domain

OWNER, EDITOR, VIEWER = Role.OWNER, Role.EDITOR, Role.VIEWER


def test_non_member_is_told_the_space_does_not_exist() -> None:
    with pytest.raises(NotFound, match="space not found"):
        domain.require_member(None, "spc_1")


@pytest.mark.parametrize(("role", "allowed"), [(OWNER, True), (EDITOR, True), (VIEWER, False)])
def test_owners_and_editors_rename_viewers_do_not(role: Role, allowed: bool) -> None:
    assert domain.may_rename(role) is allowed
    if not allowed:
        with pytest.raises(PermissionDenied):
            domain.ensure_may_rename(role)


@pytest.mark.parametrize(("role", "allowed"), [(OWNER, True), (EDITOR, False), (VIEWER, False)])
def test_only_owners_delete_a_space(role: Role, allowed: bool) -> None:
    assert domain.may_delete_space(role) is allowed
    if not allowed:
        with pytest.raises(PermissionDenied):
            domain.ensure_may_delete_space(role)


@pytest.mark.parametrize(("role", "allowed"), [(OWNER, True), (EDITOR, False), (VIEWER, False)])
def test_only_owners_manage_members(role: Role, allowed: bool) -> None:
    assert domain.may_manage_members(role) is allowed


@pytest.mark.parametrize("actor", [EDITOR, VIEWER])
def test_non_owner_cannot_change_a_role(actor: Role) -> None:
    with pytest.raises(PermissionDenied):
        domain.ensure_may_change_role(actor, VIEWER, EDITOR, owners=1)


def test_last_owner_cannot_be_demoted() -> None:
    with pytest.raises(InvalidState, match="last owner"):
        domain.ensure_may_change_role(OWNER, OWNER, EDITOR, owners=1)


def test_an_owner_can_be_demoted_while_another_owner_remains() -> None:
    domain.ensure_may_change_role(OWNER, OWNER, VIEWER, owners=2)


def test_last_owner_keeping_the_owner_role_is_no_change_and_allowed() -> None:
    domain.ensure_may_change_role(OWNER, OWNER, OWNER, owners=1)


def test_owner_may_promote_anyone_to_owner() -> None:
    domain.ensure_may_change_role(OWNER, VIEWER, OWNER, owners=1)


@pytest.mark.parametrize("role", [EDITOR, VIEWER])
def test_any_member_may_leave(role: Role) -> None:
    domain.ensure_may_remove("usr_a", role, "usr_a", role, owners=1)


@pytest.mark.parametrize("actor", [EDITOR, VIEWER])
def test_non_owner_cannot_remove_someone_else(actor: Role) -> None:
    with pytest.raises(PermissionDenied):
        domain.ensure_may_remove("usr_a", actor, "usr_b", VIEWER, owners=1)


def test_last_owner_can_neither_leave_nor_be_removed() -> None:
    with pytest.raises(InvalidState, match="last owner"):
        domain.ensure_may_remove("usr_a", OWNER, "usr_a", OWNER, owners=1)
    with pytest.raises(InvalidState, match="last owner"):
        domain.ensure_may_remove("usr_b", OWNER, "usr_a", OWNER, owners=1)


def test_an_owner_may_leave_when_another_owner_remains() -> None:
    domain.ensure_may_remove("usr_a", OWNER, "usr_a", OWNER, owners=2)


@pytest.mark.parametrize("email", ["ada@example.com", "a.b+c@sub.example.co.uk", "x@y.z"])
def test_plain_addresses_are_emails(email: str) -> None:
    assert is_email(email)


@pytest.mark.parametrize("email", ["", "ada", "ada@", "@example.com", "ada@example", "a b@example.com", "a@b@c.d"])
def test_malformed_addresses_are_not_emails(email: str) -> None:
    assert not is_email(email)


def test_emails_are_compared_lower_cased_and_trimmed() -> None:
    assert domain.normalise_email("  Ada@Example.COM ") == "ada@example.com"


def test_ids_carry_their_prefix_and_are_unique() -> None:
    first, second = domain.new_id(domain.SPACE_PREFIX), domain.new_id(domain.SPACE_PREFIX)
    assert first.startswith("spc_") and len(first) == 36 and first != second
