"""NATS server configuration for Make Effects: one user per service, permissions from the contracts' topology.

`render_config` makes a whole server config (the embedded runner and the tests use it with
literal passwords); `python -m makefx_natsconfig` writes `deploy/nats/` with passwords read
from `$NATS_<USER>_PASSWORD` when the server starts.
"""

from makefx_natsconfig.config import (
    FromEnvironment,
    Password,
    connection_environment,
    deploy_passwords,
    generate_passwords,
    is_safe_password,
    password_variable,
    render_authorization,
    render_config,
)
from makefx_natsconfig.permissions import (
    ADMIN_USER,
    DEBUG_USER,
    Permissions,
    Resources,
    debug_permissions,
    known_users,
    permissions_for,
    service_permissions,
)

__all__ = [
    "ADMIN_USER",
    "DEBUG_USER",
    "FromEnvironment",
    "Password",
    "Permissions",
    "Resources",
    "connection_environment",
    "debug_permissions",
    "deploy_passwords",
    "generate_passwords",
    "is_safe_password",
    "known_users",
    "password_variable",
    "permissions_for",
    "render_authorization",
    "render_config",
    "service_permissions",
]
