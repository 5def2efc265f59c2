"""The `responses` backend."""
