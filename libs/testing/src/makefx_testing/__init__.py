"""Test fixtures shared by every test suite of the project (a pytest plugin), and the parts their conftests build on.

`fixtures` (the plugin: nats-server, PostgreSQL), `databases`, `services` (services as
processes), `sockets` (a space's WebSocket client), `gateway_api` (people and spaces),
`streams` (what a stream holds), `app_server` and `fakes` (apps and provider fakes served
in the test's event loop).
"""
