"""Rendering nats-server configuration: users, passwords, permissions."""

from __future__ import annotations

import pytest

from makefx_contracts import subjects
from makefx_contracts.topology import SERVICES
from makefx_natsconfig import (
    ADMIN_USER,
    DEBUG_USER,
    FromEnvironment,
    connection_environment,
    generate_passwords,
    is_safe_password,
    known_users,
    password_variable,
    permissions_for,
    render_authorization,
    render_config,
    service_permissions,
)


def test_password_variables_are_named_after_the_user() -> None:
    assert password_variable("space-state") == "NATS_SPACE_STATE_PASSWORD"
    assert FromEnvironment.for_user("chat") == FromEnvironment("NATS_CHAT_PASSWORD")


def test_known_users_are_the_services_then_debug_and_admin() -> None:
    assert known_users() == (*SERVICES, DEBUG_USER, ADMIN_USER)


def test_generated_passwords_are_distinct_and_survive_the_config_parser() -> None:
    passwords = generate_passwords()
    assert set(passwords) == set(known_users())
    assert len(set(passwords.values())) == len(passwords)
    assert all(is_safe_password(p) for p in passwords.values())


@pytest.mark.parametrize("password", ["12345678901234567890", "true", "with space in it!!", "short"])
def test_values_the_config_parser_would_not_read_as_strings_are_unsafe(password: str) -> None:
    assert not is_safe_password(password)


def test_a_literal_password_with_a_quote_is_refused() -> None:
    with pytest.raises(ValueError, match="quotes"):
        render_authorization({"gateway": 'pa"ss'})


def test_passwords_from_the_environment_are_variable_references() -> None:
    rendered = render_authorization({"billing": FromEnvironment.for_user("billing")})
    assert "password: $NATS_BILLING_PASSWORD" in rendered


def test_unknown_users_are_refused() -> None:
    with pytest.raises(KeyError, match="known users"):
        render_authorization({"mallory": "p-some-long-password"})


def test_admin_has_no_permissions_block_and_services_have_one() -> None:
    rendered = render_authorization({ADMIN_USER: "padminpassword123", "chat": "pchatpassword12345"})
    admin_block = rendered.split('user: "admin"')[1].split("}")[0]
    assert "permissions" not in admin_block
    assert permissions_for(ADMIN_USER).is_unrestricted
    assert not permissions_for("chat").is_unrestricted


def test_only_services_that_answer_requests_may_respond() -> None:
    for service in SERVICES.values():
        assert service_permissions(service).allow_responses is bool(service.answers)


def test_key_value_writes_belong_to_the_buckets_writers_only() -> None:
    for service in SERVICES.values():
        publish = service_permissions(service).publish or ()
        for bucket in (subjects.KV_STATE_REPLICAS, subjects.KV_SPACE_OWNERS):
            assert (f"$KV.{bucket}.>" in publish) is (bucket in service.writes), (service.name, bucket)


def test_no_auth_user_must_be_one_of_the_users() -> None:
    with pytest.raises(ValueError, match="no_auth_user"):
        render_authorization({"chat": "pchatpassword12345"}, no_auth_user=ADMIN_USER)
    rendered = render_authorization({ADMIN_USER: "padminpassword123"}, no_auth_user=ADMIN_USER)
    assert 'no_auth_user: "admin"' in rendered


def test_config_leaves_the_store_directory_to_the_command_line_when_none_is_given() -> None:
    rendered = render_config({"chat": "pchatpassword12345"}, jetstream_dir=None)
    assert "jetstream: enabled" in rendered and "store_dir" not in rendered
    rendered = render_config({"chat": "pchatpassword12345"}, jetstream_dir="/data/js", http_port=8222)
    assert 'store_dir: "/data/js"' in rendered and "http_port: 8222" in rendered


def test_config_can_include_the_users_from_a_file() -> None:
    rendered = render_config({}, jetstream_dir=None, authorization_file="authorization.conf")
    assert rendered.rstrip().endswith('include "authorization.conf"')
    assert "authorization {" not in rendered


def test_connection_environment_names_the_user_and_password() -> None:
    assert connection_environment("media", "pmediapassword123") == {
        "MAKEFX_NATS_USER": "media",
        "MAKEFX_NATS_PASSWORD": "pmediapassword123",
    }
