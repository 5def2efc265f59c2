"""Markdown and JSON export of a stored conversation."""

from __future__ import annotations

import io
import json

import pytest
from samples import every_part_answer, png_bytes

from assistants_ui.core.transcript import Attachment, Message
from assistants_ui.storage import (
    NotFound,
    Repository,
    UserInfo,
    export_filename,
    to_json,
    to_markdown,
    write_json,
    write_markdown,
)


def stored(repo: Repository, user: UserInfo) -> tuple[str, list[Message]]:
    conv = repo.create_conversation(user_id=user.id, profile_id="helper", backend="responses")
    for m in (
        Message.user("Plot Q3 / sales", [Attachment("logo.png", "image/png", png_bytes())]),
        every_part_answer(),
    ):
        repo.save_message(user_id=user.id, conversation_id=conv.id, message=m)
    return conv.id, repo.load_messages(user_id=user.id, conversation_id=conv.id).messages


def test_markdown_reads_like_the_conversation(repo: Repository, alice: UserInfo) -> None:
    cid, messages = stored(repo, alice)
    md = to_markdown(repo.get_conversation(user_id=alice.id, conversation_id=cid), messages)
    assert md.startswith("# Plot Q3 / sales\n")
    assert "## You ·" in md and "## Assistant ·" in md
    assert "*Attached:* `logo.png` (image/png," in md
    assert "Here is the chart" in md and "and the table." in md
    assert "1. sales.xlsx" in md and "<https://example.com/a>" in md
    # Code holding ``` is fenced with more backticks, so it cannot break out.
    assert "````python\nprint('```')\n````" in md
    assert "````text\n```\n````" in md
    assert "*Image:* `chart.png`" in md and "*File:* `table.xlsx`" in md
    assert "> **Refused:** Not that part." in md
    assert "> The container expired." in md


def test_json_round_trips_every_message(repo: Repository, alice: UserInfo) -> None:
    cid, messages = stored(repo, alice)
    conv = repo.get_conversation(user_id=alice.id, conversation_id=cid)
    doc = json.loads(to_json(conv, messages))
    assert doc["format"] == "assistants-ui.conversation" and doc["version"] == 1
    assert doc["conversation"]["title"] == "Plot Q3 / sales"
    back = [Message.from_dict(m) for m in doc["messages"]]
    assert [m.to_dict() for m in back] == [m.to_dict() for m in messages]

    light = json.loads(to_json(conv, messages, include_files=False))
    assert light["messages"][0]["attachments"][0]["data"] is None
    assert "base64" not in json.dumps(light)


def test_export_filename_is_safe(repo: Repository, alice: UserInfo) -> None:
    cid, _ = stored(repo, alice)
    conv = repo.get_conversation(user_id=alice.id, conversation_id=cid)
    assert export_filename(conv, "md") == f"Plot-Q3-sales-{cid}.md"
    renamed = repo.rename_conversation(user_id=alice.id, conversation_id=cid, title="../../ ??")
    assert export_filename(renamed, ".json") == f"conversation-{cid}.json"


def test_a_streamed_export_holds_one_batch_at_a_time(
    repo: Repository, alice: UserInfo, bob: UserInfo
) -> None:
    """The attack: a long conversation full of files, exported again and again.
    Before, the whole conversation was loaded, every file base64-encoded into one
    document, dumped to a string and encoded: several copies of everything at
    once. Now messages come from the database a batch at a time and are written
    to a file one by one; the document reads back the same."""
    conv = repo.create_conversation(user_id=alice.id, profile_id="helper", backend="chat")
    for i in range(7):
        files = [Attachment(f"f{i}.bin", "application/octet-stream", bytes([i]) * 1000)]
        repo.save_message(
            user_id=alice.id, conversation_id=conv.id, message=Message.user(f"q{i}", files)
        )
    batches = list(repo.iter_messages(user_id=alice.id, conversation_id=conv.id, batch=3))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [m.text for b in batches for m in b] == [f"q{i}" for i in range(7)]
    out = io.BytesIO()
    info = repo.get_conversation(user_id=alice.id, conversation_id=conv.id)
    write_json(info, repo.iter_messages(user_id=alice.id, conversation_id=conv.id, batch=2), out)
    doc = json.loads(out.getvalue())
    every = repo.load_messages(user_id=alice.id, conversation_id=conv.id, limit=None).messages
    assert doc == json.loads(to_json(info, every))
    back = [Message.from_dict(m) for m in doc["messages"]]
    assert [m.attachments[0].data for m in back] == [bytes([i]) * 1000 for i in range(7)]
    md = io.BytesIO()
    write_markdown(info, repo.iter_messages(user_id=alice.id, conversation_id=conv.id), md)
    assert md.getvalue().decode().count("## You ·") == 7
    with pytest.raises(NotFound):  # another user's conversation: nothing comes out
        list(repo.iter_messages(user_id=bob.id, conversation_id=conv.id))


def test_approvals_passages_and_mcp_calls_are_exported(repo: Repository, alice: UserInfo) -> None:
    from assistants_ui.core import events as ev
    from assistants_ui.core.transcript import fold

    answer = fold(
        [
            ev.ToolCallStarted("fs", "file_search", "file_search"),
            ev.ToolCallDone("fs", passages=(ev.Passage("q3.pdf", "Revenue grew 12%.", 0.9),)),
            ev.ToolCallStarted("m1", "mcp", "search_docs", '{"q": "x"}', server="docs"),
            ev.ToolCallDone("m1", output="2 pages"),
            ev.ApprovalRequested("r1", "docs", "delete_page", '{"page": 7}'),
            ev.Done(),
        ]
    )
    decision = Message.decision(answer.approvals[0], approve=True)
    answer.approvals[0].decision = "approved"
    conv = repo.create_conversation(user_id=alice.id, profile_id="helper", backend="responses")
    for m in (Message.user("Find it"), answer, decision):
        repo.save_message(user_id=alice.id, conversation_id=conv.id, message=m)
    messages = repo.load_messages(user_id=alice.id, conversation_id=conv.id).messages

    def unlinked(m: Message) -> dict[str, object]:  # storage links each to the one before
        return {k: v for k, v in m.to_dict().items() if k != "parent_id"}

    assert [unlinked(m) for m in messages] == [unlinked(m) for m in (messages[0], answer, decision)]
    assert [m.parent_id for m in messages] == ["", messages[0].id, messages[1].id]
    md = to_markdown(repo.get_conversation(user_id=alice.id, conversation_id=conv.id), messages)
    assert "> *q3.pdf:* Revenue grew 12%." in md
    assert "**MCP tool** `search_docs`" in md and "2 pages" in md
    assert md.count("**Approval of** `delete_page` on the MCP server `docs`: approved") == 2
