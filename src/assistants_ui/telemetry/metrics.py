"""Prometheus metrics on a port of their own (METRICS_PORT): `prometheus_client`, imported
only when that port is set.

The app's own registry (not the library's global one), served at `/metrics` by
`prometheus_client`'s threaded HTTP server. Each metric is listed, with the
Grafana panel that shows it, in docs/operators.md, "Telemetry". Labels are
assistant ids (profile ids, a set the operator configured), backends, statuses,
failure codes (a closed set, `core.events.FailureCode`) and storage operations
(the stores' method names): never anything a user typed.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    start_http_server,
)

from assistants_ui.core.live import LiveAnswers

__all__ = ["Metrics"]

log = logging.getLogger(__name__)

# Seconds: the first words come within a few seconds, whole answers within minutes,
# a storage call within milliseconds (the defaults' 5 ms to 10 s suit none of them).
FIRST_WORDS_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60)
ANSWER_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
STORAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)


def _safe(count: Callable[[], float]) -> Callable[[], float]:
    """A gauge's callback that never fails a scrape (NaN when it cannot tell)."""

    def read() -> float:
        try:
            return float(count())
        except Exception:
            log.debug("telemetry: a gauge could not be read", exc_info=True)
            return math.nan

    return read


class Metrics:
    """The app's metrics, in a registry of their own."""

    def __init__(self, *, sessions: Callable[[], float] | None = None) -> None:
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)  # process_cpu_seconds_total, memory, open fds
        self.answers = Counter(
            "assistants_ui_answers",
            "Answers ended, by assistant, backend and status "
            "(complete, incomplete, stopped, failed).",
            ["assistant", "backend", "status"],
            registry=registry,
        )
        self.tokens = Counter(
            "assistants_ui_tokens",
            "Tokens of the answers ended, input (the question and its history) or output.",
            ["assistant", "type"],
            registry=registry,
        )
        self.failures = Counter(
            "assistants_ui_answer_failures",
            "Failed answers, by failure code (core.events.FailureCode).",
            ["assistant", "code"],
            registry=registry,
        )
        self.first_words = Histogram(
            "assistants_ui_first_words_seconds",
            "Seconds from an answer's start to its first words (text, reasoning or refusal).",
            ["assistant"],
            buckets=FIRST_WORDS_BUCKETS,
            registry=registry,
        )
        self.answer_seconds = Histogram(
            "assistants_ui_answer_seconds",
            "Seconds from an answer's start to its end, however it ended.",
            ["assistant"],
            buckets=ANSWER_BUCKETS,
            registry=registry,
        )
        self.streaming = Gauge(
            "assistants_ui_answers_streaming",
            "Answers being written now in this process.",
            registry=registry,
        )
        self.streaming.set_function(_safe(LiveAnswers.count_every))
        self.sessions = Gauge(
            "assistants_ui_sessions",
            "Browser sessions connected to this process.",
            registry=registry,
        )
        self.sessions.set_function(_safe(sessions or (lambda: math.nan)))
        self.storage = Histogram(
            "assistants_ui_storage_seconds",
            "Seconds per storage call, by operation (the store's method).",
            ["operation"],
            buckets=STORAGE_BUCKETS,
            registry=registry,
        )
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def serve(self, port: int, address: str) -> None:
        """Serve `/metrics` on `address:port` from a thread; OSError if it cannot listen."""
        self._server, self._thread = start_http_server(port, address, registry=self.registry)

    @property
    def port(self) -> int | None:
        return None if self._server is None else int(self._server.server_address[1])

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
