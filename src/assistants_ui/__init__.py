"""Assistants UI: a self-hostable web chat for AI assistants."""

__version__ = "0.1.0"
