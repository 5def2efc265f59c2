"""Protocol backends: Chat Completions, Responses, Assistants."""
