"""The chat service: answers chat turns with Claude and proposes tool calls for approval."""
