"""Telemetry in the app as `make run` starts it: the server's lifespan starts it and stops it.

A real `assistants-ui run` process with OTEL_EXPORTER_OTLP_ENDPOINT and
METRICS_PORT, one browser session over Streamlit's own websocket protocol
(`streamlit_client`), answers from the fake OpenAI server. The metrics are
scraped while the session is connected; the batch processor's delay is set
longer than the test, so the trace arrives only because the app's shutdown
sends what is queued.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from browser_support import app_command, free_port, serving
from fakes.chat_routes import chat_text
from fakes.otlp import OtlpReceiver
from fakes.server import FakeOpenAI
from streamlit_client import PageSession, Run, run_isolated

TIMEOUT = 60
ANSWER = "Measured and traced."


def scrape(port: int) -> list[tuple[str, dict[str, str], float]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return [
        (s.name, s.labels, s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def test_the_app_serves_metrics_and_sends_each_answers_trace(
    tmp_path: Path, fake: FakeOpenAI
) -> None:
    fake.expect("chat.completions", chat_text(["Measured", " and traced."], usage=(7, 3)))
    metrics_port, port = free_port(), free_port()
    with OtlpReceiver() as receiver:
        env = {
            "OPENAI_BASE_URL": fake.base_url,
            "OPENAI_MODEL": "m",
            "OPENAI_MAX_RETRIES": "0",
            "HOME": str(tmp_path / "home"),
            "ENABLED_FILE_UPLOAD_MESSAGE": "",
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
            "OTEL_BSP_SCHEDULE_DELAY": "600000",  # only the shutdown sends them
            "METRICS_PORT": str(metrics_port),
            "METRICS_ADDRESS": "127.0.0.1",
        }

        async def scenario() -> tuple[Run, list[tuple[str, dict[str, str], float]]]:
            async with await PageSession.open(url) as page:
                await page.run(timeout=TIMEOUT)
                answered = await page.chat("How is it going?", timeout=TIMEOUT)
                return answered, scrape(metrics_port)

        with (
            (tmp_path / "app.log").open("wb") as log,
            serving(app_command(port), port, cwd=tmp_path, env=env, output=log) as (url, _),
        ):
            answered, samples = run_isolated(scenario())
            assert ANSWER in answered.text
            assert not receiver.spans  # queued, not sent yet
        # The server stopped (SIGTERM): its lifespan sent the queued spans.
        spans = receiver.wait_for(lambda got: any(s.name.startswith("invoke_") for s in got))

    def one(name: str, **labels: str) -> float:
        [found] = [v for n, got, v in samples if n == name and labels.items() <= got.items()]
        return found

    assert one("assistants_ui_sessions") == 1
    assert one("assistants_ui_answers_total", status="complete") == 1
    assert one("assistants_ui_tokens_total", type="input") == 7
    assert one("assistants_ui_tokens_total", type="output") == 3
    assert one("assistants_ui_first_words_seconds_count") == 1
    assert one("assistants_ui_answer_seconds_count") == 1
    assert one("assistants_ui_answers_streaming") == 0
    # the question and the answer's first row in one write, the ended answer in another
    assert one("assistants_ui_storage_seconds_count", operation="Messages.start_turn") == 1
    assert one("assistants_ui_storage_seconds_count", operation="Messages.save_message") >= 1
    assert one("process_cpu_seconds_total") > 0

    [root] = [s for s in spans if s.name.startswith("invoke_agent ")]
    assert root["assistants_ui.status"] == "complete"
    assert (root["gen_ai.usage.input_tokens"], root["gen_ai.usage.output_tokens"]) == (7, 3)
    names = {s.name for s in spans if s.trace_id == root.trace_id}
    assert {"chat m", "storage Messages.start_turn", "storage Messages.save_message"} <= names
    log_text = (tmp_path / "app.log").read_text(encoding="utf-8", errors="replace")
    assert f"metrics on http://127.0.0.1:{metrics_port}/metrics" in log_text
