"""The `chat` backend."""
