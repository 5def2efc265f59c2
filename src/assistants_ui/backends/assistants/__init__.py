"""The `assistants` backend."""
