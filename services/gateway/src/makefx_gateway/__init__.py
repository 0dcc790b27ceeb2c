"""The gateway: users, spaces and members; the public HTTP API and the WebSocket."""
