"""Voice input in headless Chromium: a WAV played as the microphone, through the real chat input.

Chromium's fake capture device plays a WAV generated here as the microphone;
the chat input's recorder sends it, the app transcribes it on the fake's
`/audio/transcriptions`, and the transcript is sent as the user's message
with the recording kept beside it. A failing endpoint says so once and gives
the recording back; an assistant without transcription offers no microphone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from test_login_browser import TIMEOUT

from browser_support import CHROMIUM, CHROMIUM_ARGS, StartApp, choose
from fakes.audio_routes import TRANSCRIPT, wav
from fakes.server import Error, FakeOpenAI

pytestmark = pytest.mark.browser


@pytest.fixture
def microphone(browser: Browser, tmp_path: Path) -> Iterator[Page]:
    """A page in a Chromium whose microphone plays a 2-second tone."""
    sound = tmp_path / "voice.wav"
    sound.write_bytes(wav(2.0))
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-audio-capture={sound}",
        ],
    )
    try:
        context = chromium.new_context(viewport={"width": 1200, "height": 900})
        yield context.new_page()
    finally:
        chromium.close()


def _record(page: Page) -> None:
    page.get_by_test_id("stChatInputMicButton").click()
    expect(page.get_by_test_id("stChatInputWaveform")).to_be_visible(timeout=TIMEOUT)
    page.wait_for_timeout(1500)  # let the fake microphone fill a second and a half
    page.get_by_test_id("stChatInputApproveButton").click()


def test_a_recording_is_transcribed_sent_and_kept(
    microphone: Page, start_app: StartApp, fake: FakeOpenAI, tmp_path: Path
) -> None:
    (tmp_path / "assistants.toml").write_text(f"""
[connections.fake]
type = "openai"
base_url = "{fake.base_url}"

[[assistants]]
id = "voice"
title = "Voice"
backend = "chat"
connection = "fake"
model = "m"
transcription_model = "whisper-1"

[[assistants]]
id = "typed"
title = "Typed"
backend = "chat"
connection = "fake"
model = "m"
""")
    page = microphone
    page.goto(start_app())

    # The endpoint fails once: one sentence, the recording offered back, nothing sent.
    # (a 400: the SDK would retry a 5xx and get the default transcript)
    fake.expect("audio.transcriptions", Error(400, "Audio file is unsupported", code="bad_audio"))
    _record(page)
    failure = page.get_by_text("Voice input failed")
    expect(failure).to_be_visible(timeout=TIMEOUT)
    expect(failure).to_contain_text("Audio file is unsupported")
    expect(page.get_by_role("button", name="Download your recording")).to_be_visible()
    assert fake.calls("chat.completions") == []

    _record(page)
    user = page.get_by_role("group", name="Chat message from user")
    expect(user.first).to_contain_text(TRANSCRIPT, timeout=TIMEOUT)
    expect(user.first).to_contain_text("transcribed")
    expect(user.first.locator("audio")).to_have_count(1)
    expect(page.get_by_text(f"Fake answer to: {TRANSCRIPT}")).to_be_visible(timeout=TIMEOUT)
    calls = fake.calls("audio.transcriptions")
    assert [c.body["model"] for c in calls] == ["whisper-1", "whisper-1"]
    assert calls[-1].body["file"]["data"][:4] == b"RIFF"
    sent = fake.calls("chat.completions")[-1].body["messages"][-1]
    assert sent == {"role": "user", "content": TRANSCRIPT}  # the text, never the audio

    # An assistant without transcription_model offers no microphone.
    expect(page.get_by_test_id("stChatInputMicButton")).to_have_count(1)
    choose(page, "Assistant", "🤖 Typed")
    expect(page.get_by_role("heading", name="Typed")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stChatInputMicButton")).to_have_count(0, timeout=TIMEOUT)
