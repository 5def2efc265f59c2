"""Function tools the operator exposes to assistants."""
