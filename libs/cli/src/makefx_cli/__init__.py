"""The `makefx` command: the embedded NATS server and a supervisor for every service."""
