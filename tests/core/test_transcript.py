"""The fold from stream events to a message, and the message's JSON round trip."""

from __future__ import annotations

from assistants_ui.core import events as ev
from assistants_ui.core.transcript import (
    ApprovalPart,
    Attachment,
    ErrorPart,
    FilePart,
    ImagePart,
    Message,
    MessageBuilder,
    NoticePart,
    ReasoningPart,
    RefusalPart,
    TextPart,
    ToolPart,
    fold,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def test_text_deltas_join_into_one_part() -> None:
    msg = fold([ev.TextDelta("Hel"), ev.TextDelta("lo"), ev.Done()])
    assert msg.status == "complete"
    assert msg.parts == [TextPart("Hello")]
    assert msg.text == "Hello"


def test_parts_keep_their_order() -> None:
    msg = fold(
        [
            ev.ReasoningDelta("think"),
            ev.TextDelta("Let me compute. "),
            ev.ToolCallStarted("c1", "code_interpreter"),
            ev.CodeDelta("c1", "print("),
            ev.CodeDelta("c1", "1)"),
            ev.CodeOutput("c1", "1\n"),
            ev.ImageOutput("chart.png", PNG, "image/png", "f1"),
            ev.ToolCallDone("c1"),
            ev.TextDelta("Done."),
            ev.FileOutput("out.xlsx", b"PK\x03\x04data", "application/vnd.ms-excel", "f2"),
            ev.Done(usage=ev.Usage(3, 4)),
        ]
    )
    kinds = [p.kind for p in msg.parts]
    assert kinds == ["reasoning", "text", "tool", "image", "text", "file"]
    tool = msg.parts[2]
    assert isinstance(tool, ToolPart)
    assert (tool.code, tool.logs, tool.status) == ("print(1)", "1\n", "completed")
    assert (msg.input_tokens, msg.output_tokens) == (3, 4)
    assert msg.text == "Let me compute. Done."


def test_same_file_announced_twice_is_kept_once() -> None:
    msg = fold(
        [
            ev.FileOutput("a.csv", b"1,2", file_id="f1"),
            ev.FileOutput("a.csv", b"1,2", file_id="f1"),
            ev.ImageOutput("x.png", PNG),
            ev.ImageOutput("x.png", PNG),
            ev.Done(),
        ]
    )
    assert [p.kind for p in msg.parts] == ["file", "image"]


def test_two_files_keep_their_own_bytes() -> None:
    msg = fold(
        [
            ev.FileOutput("a.bin", b"A", file_id="fa"),
            ev.FileOutput("b.bin", b"B", file_id="fb"),
            ev.Done(),
        ]
    )
    files = [p for p in msg.parts if isinstance(p, FilePart)]
    assert [(f.name, f.data) for f in files] == [("a.bin", b"A"), ("b.bin", b"B")]


def test_failure_keeps_what_streamed() -> None:
    msg = fold(
        [ev.TextDelta("partial "), ev.Failed("server down", retryable=True, code="server_error")]
    )
    assert msg.status == "failed"
    assert msg.text == "partial "
    assert msg.error == ErrorPart("server down", True, "server_error")


def test_stream_ending_without_done_is_a_failure() -> None:
    msg = fold([ev.TextDelta("cut")])
    assert msg.status == "failed"
    assert msg.error is not None
    assert "ended early" in msg.error.reason


def test_stop_marks_stopped_and_keeps_text() -> None:
    b = MessageBuilder()
    b.apply(ev.TextDelta("some"))
    b.stop()
    b.finish()
    assert b.message.status == "stopped"
    assert b.message.text == "some"


def test_incomplete_with_detail_adds_a_warning() -> None:
    msg = fold([ev.TextDelta("x"), ev.Done("incomplete", detail="length limit")])
    assert msg.status == "incomplete"
    assert msg.parts[-1] == NoticePart("length limit", "warning")


def test_citations_attach_to_the_text_before_them() -> None:
    msg = fold(
        [
            ev.TextDelta("Fact."),
            ev.FileOutput("f.txt", b"x", file_id="f"),
            ev.Citation("file", "doc.pdf", file_id="file-1", start=5),
            ev.Done(),
        ]
    )
    text = msg.parts[0]
    assert isinstance(text, TextPart)
    assert text.citations[0].label == "doc.pdf"


def test_refusal_and_remote_updates() -> None:
    b = MessageBuilder()
    for e in (ev.Refusal("No."), ev.RemoteUpdate("conversation", "conv_1"), ev.Done()):
        b.apply(e)
    assert b.message.parts == [RefusalPart("No.")]
    assert b.remote == {"conversation": "conv_1"}


def test_a_replace_rewrites_the_tail_of_the_last_part_of_its_kind() -> None:
    """The server's final word on streamed text: the part keeps its first `start`
    characters and ends with the new text, even with a file (or a citation) after it."""
    cite = ev.Citation("url", "Report", url="https://example.com", start=11, end=17)
    msg = fold(
        [
            ev.ReasoningDelta("Weighing"),
            ev.TextDelta("Intro. "),
            ev.TextDelta("Helo "),
            ev.TextDelta("wrld, the wrld."),
            cite,
            ev.FileOutput("out.csv", b"1,2", file_id="f1"),
            ev.Replace("text", 7, "Hello, world."),
            ev.Replace("reasoning", 0, "Weighing it."),
            ev.Refusal("I cant"),
            ev.Replace("refusal", 0, "I can't."),
            ev.Done(),
        ]
    )
    assert [p.kind for p in msg.parts] == ["reasoning", "text", "file", "refusal"]
    assert msg.text == "Intro. Hello, world."
    assert msg.parts[1] == TextPart("Intro. Hello, world.", [cite])
    assert msg.parts[0] == ReasoningPart("Weighing it.")
    assert msg.parts[3] == RefusalPart("I can't.")


def test_a_replace_may_shorten_the_text() -> None:
    msg = fold([ev.TextDelta("Hello.Hello.Hello."), ev.Replace("text", 0, "Hello."), ev.Done()])
    assert msg.parts == [TextPart("Hello.")]


def test_version_counts_changes() -> None:
    b = MessageBuilder()
    assert b.version == 0
    b.apply(ev.TextDelta("a"))
    b.apply(ev.TextDelta("b"))
    assert b.version == 2


def test_json_round_trip_keeps_bytes_exactly() -> None:
    msg = fold(
        [
            ev.ReasoningDelta("r"),
            ev.TextDelta("t"),
            ev.Citation("url", "Example", url="https://example.com", start=0, end=1),
            ev.ToolCallStarted("c", "function", "f", '{"a": 1}'),
            ev.ToolCallDone("c", output="42"),
            ev.ImageOutput("i.png", PNG, "image/png", "fi"),
            ev.FileOutput("x.xlsx", bytes(range(256)) * 4, "application/octet-stream", "fx"),
            ev.Notice("note"),
            ev.Refusal("no"),
            ev.Failed("bad"),
        ]
    )
    user = Message.user("hi", [Attachment("a.csv", "text/csv", b"1,2\n", "file-1", "code")])
    for original in (msg, user):
        copy = Message.from_dict(original.to_dict())
        assert copy == original
    image = next(p for p in msg.parts if isinstance(p, ImagePart))
    copied = next(p for p in Message.from_dict(msg.to_dict()).parts if isinstance(p, ImagePart))
    assert copied.data == image.data == PNG
    assert isinstance(msg.parts[0], ReasoningPart)


# -- the items of issue 13: image generation, streamed arguments, MCP, passages ---------


def test_partial_images_are_replaced_in_place_by_the_final_image() -> None:
    builder = MessageBuilder()
    builder.apply(ev.ToolCallStarted("ig1", "image_generation", "image_generation"))
    builder.apply(ev.ImagePartial("ig1", b"first", "image/png", 0))
    [image] = [p for p in builder.message.parts if isinstance(p, ImagePart)]
    assert (image.data, image.partial, image.call_id) == (b"first", True, "ig1")
    builder.apply(ev.ImagePartial("ig1", b"second", "image/png", 1))
    builder.apply(ev.ImageOutput("image-1.png", PNG, "image/png", call_id="ig1"))
    builder.apply(ev.ToolCallDone("ig1"))
    builder.apply(ev.Done())
    assert [p.kind for p in builder.message.parts] == ["tool", "image"]
    assert builder.message.parts[1] is image
    assert (image.name, image.data, image.partial) == ("image-1.png", PNG, False)
    # A late partial never replaces the final image.
    builder.apply(ev.ImagePartial("ig1", b"late", "image/png", 2))
    assert image.data == PNG


def test_two_image_calls_keep_two_images() -> None:
    msg = fold(
        [
            ev.ImagePartial("a", b"a0"),
            ev.ImagePartial("b", b"b0"),
            ev.ImageOutput("a.png", b"A", call_id="a"),
            ev.ImageOutput("b.png", b"B", call_id="b"),
            ev.Done(),
        ]
    )
    assert [(p.name, p.data) for p in msg.parts if isinstance(p, ImagePart)] == [
        ("a.png", b"A"),
        ("b.png", b"B"),
    ]


def test_argument_pieces_grow_the_call_and_the_whole_arguments_replace_them() -> None:
    builder = MessageBuilder()
    builder.apply(ev.ToolCallStarted("c1", "function", "get_weather"))
    builder.apply(ev.ToolArgumentsDelta("c1", '{"city": '))
    [tool] = builder.message.parts
    assert isinstance(tool, ToolPart) and tool.arguments == '{"city": '
    builder.apply(ev.ToolArgumentsDelta("c1", '"Oslo"}'))
    assert tool.arguments == '{"city": "Oslo"}'
    builder.apply(ev.ToolCallStarted("c1", "function", "get_weather", '{"city":"Oslo"}'))
    assert tool.arguments == '{"city":"Oslo"}'


def test_an_mcp_call_names_its_server_and_an_approval_is_a_part() -> None:
    msg = fold(
        [
            ev.ToolCallStarted("m1", "mcp", "search", server="docs"),
            ev.ToolCallDone("m1", output="3 hits", arguments="{}"),
            ev.ApprovalRequested("r1", "docs", "delete", '{"id": 7}'),
            ev.Done(),
        ]
    )
    tool, approval = msg.parts
    assert isinstance(tool, ToolPart) and (tool.server, tool.output) == ("docs", "3 hits")
    assert approval == ApprovalPart("r1", "docs", "delete", '{"id": 7}', "pending")
    assert msg.approvals == [approval]
    decision = Message.decision(approval, approve=False)
    assert (decision.role, decision.text) == ("user", "")
    assert decision.approvals == [ApprovalPart("r1", "docs", "delete", '{"id": 7}', "denied")]


def test_new_parts_survive_the_json_round_trip() -> None:
    passage = ev.Passage("q3.pdf", "Revenue grew.", 0.9, "file-a")
    msg = fold(
        [
            ev.ToolCallStarted("fs", "file_search", "file_search"),
            ev.ToolCallDone("fs", passages=(passage,)),
            ev.ToolCallStarted("m1", "mcp", "search", server="docs"),
            ev.ImagePartial("ig", PNG),
            ev.ApprovalRequested("r1", "docs", "delete", "{}"),
            ev.Done(),
        ]
    )
    again = Message.from_dict(msg.to_dict())
    assert again == msg
    search = again.parts[0]
    assert isinstance(search, ToolPart) and search.passages == [passage]
    assert isinstance(again.parts[2], ImagePart) and again.parts[2].partial
