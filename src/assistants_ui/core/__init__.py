"""Protocol-free core: stream events, messages, sessions."""
