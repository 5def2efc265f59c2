"""Saved prompts' {{variables}}: found in order, filled, and every malformed or missing
one said in one sentence that names it."""

from __future__ import annotations

import pytest

from assistants_ui.core.prompts import check_prompt, fill, missing, variables


def test_variables_are_found_once_in_order_and_filled_everywhere() -> None:
    body = "Summarize {{ text }} for {{audience}}; keep {{text}} short. {{ Target lang }}"
    assert variables(body) == ["text", "audience", "Target lang"]
    assert (
        fill(body, {"text": "the memo", "audience": "execs", "Target lang": "French"})
        == "Summarize the memo for execs; keep the memo short. French"
    )
    assert fill("Hi {{who}}", {}) == "Hi {{who}}"  # a value not given stays as written
    assert variables("No variables at all.") == []
    assert check_prompt("summary", body, max_chars=1000) is None


@pytest.mark.parametrize(
    ("body", "found"),
    [
        ("Translate {{text into French", "{{text into French"),
        ("Translate text}} into French", "Translate text}}"),
        ("Write {{}} now", "{{}}"),
        ("Use {{1st}} please", "{{1st}}"),
        ("Weird {{a!b}} here", "{{a!b}}"),
    ],
)
def test_a_malformed_variable_is_named_in_one_sentence(body: str, found: str) -> None:
    assert check_prompt("fix", body, max_chars=1000) == (
        f"Not saved: “{found}” is not a variable; write a variable as {{{{name}}}} "
        "(letters, digits, “_”, “-” or spaces, starting with a letter), with both pairs "
        "of braces."
    )


def test_names_bodies_and_blanks_are_one_sentence_each() -> None:
    assert check_prompt("Bad Name", "x", max_chars=10) == (
        "Not saved: a prompt's name is what follows “/” in the chat input: 1 to 40 lower-case "
        "letters, digits, “-” or “_”, starting with a letter or digit (got “Bad Name”)."
    )
    assert check_prompt("/ok", "   ", max_chars=10) == "Not saved: the prompt is empty."
    assert check_prompt("ok", "x" * 11, max_chars=10) == (
        "Not saved: the prompt is 11 characters long, over the limit of 10."
    )
    body = "Email {{name}} about {{topic}}"
    assert missing(body, {"name": "Ana", "topic": "  "}) == (
        "Fill in “topic” to insert this prompt."
    )
    assert missing(body, {}) == "Fill in “name”, “topic” to insert this prompt."
    assert missing(body, {"name": "Ana", "topic": "tea"}) is None
