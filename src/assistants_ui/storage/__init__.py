"""Persistence of users, conversations, messages and files."""
