"""Telemetry operators can watch: OpenTelemetry traces and Prometheus metrics, both optional.

Off unless configured, and then at no cost: with neither
OTEL_EXPORTER_OTLP_ENDPOINT nor METRICS_PORT set, `start` installs nothing and
imports neither the OpenTelemetry SDK nor `prometheus_client` (core's hooks,
`core.observe`, each read one global and return). The libraries come with the
`telemetry` extra (`pip install 'assistants-ui[telemetry]'`; `make run` and the
image install it).

- OTEL_EXPORTER_OTLP_ENDPOINT: a trace per answer (`tracing.py`), sent over
  OTLP/HTTP by a batch span processor from its own thread: an answer never
  waits for it. An endpoint that is down costs one warning in the log (and one
  line when it answers again), not one per span; its spans are dropped.
- METRICS_PORT: Prometheus metrics served on a port of their own (`metrics.py`).

`web/server.py`'s lifespan calls `start` when the server starts and `stop` when
it stops (flushing the traces still queued, for at most a few seconds). The
spans, attributes and metrics are listed in docs/operators.md, "Telemetry".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.util import find_spec

from assistants_ui.core import observe
from assistants_ui.settings import Problem, Settings
from assistants_ui.telemetry.observer import Telemetry

__all__ = ["Telemetry", "problems", "start", "stop"]

log = logging.getLogger(__name__)

MISSING = (
    "is set, but the telemetry libraries are not installed: "
    "pip install 'assistants-ui[telemetry]' (make run and the image install them)"
)

_running: Telemetry | None = None


def _missing(settings: Settings) -> list[tuple[str, str]]:
    """(setting, library) for each configured part whose library is not installed."""
    wanted = []
    if settings.otel_exporter_otlp_endpoint:
        wanted.append(("OTEL_EXPORTER_OTLP_ENDPOINT", "opentelemetry.exporter.otlp.proto.http"))
    if settings.metrics_port:
        wanted.append(("METRICS_PORT", "prometheus_client"))
    missing = []
    for setting, module in wanted:
        try:
            found = find_spec(module) is not None
        except ModuleNotFoundError:  # a parent package is missing
            found = False
        if not found:
            missing.append((setting, module))
    return missing


def problems(settings: Settings) -> list[Problem]:
    """A telemetry setting whose library is missing (`assistants-ui check`, the page)."""
    return [Problem(setting, MISSING) for setting, _ in _missing(settings)]


def start(settings: Settings, *, sessions: Callable[[], float] | None = None) -> Telemetry | None:
    """Set up what `settings` ask for and make it core's observer; None when nothing is
    configured (or nothing could be set up). Never raises: a part that cannot start is
    one warning in the log, and the app runs without it. `sessions` counts the browser
    sessions connected (the metrics' `assistants_ui_sessions`)."""
    global _running
    if _running is not None:
        return _running
    missing = {setting for setting, _ in _missing(settings)}
    for setting in sorted(missing):
        log.warning("%s %s; it is off.", setting, MISSING)
    tracing = metrics = None
    endpoint = settings.otel_exporter_otlp_endpoint
    if endpoint and "OTEL_EXPORTER_OTLP_ENDPOINT" not in missing:
        from assistants_ui.telemetry.tracing import Tracing

        try:
            tracing = Tracing(endpoint)
        except Exception as exc:  # an OTEL_* variable the SDK refuses, say
            log.warning(
                "OTEL_EXPORTER_OTLP_ENDPOINT: traces cannot be set up (%s: %s); they are off.",
                type(exc).__name__,
                exc,
            )
        else:
            log.info("telemetry: traces go to %s", tracing.where)
    port = settings.metrics_port
    if port and "METRICS_PORT" not in missing:
        from assistants_ui.telemetry.metrics import Metrics

        metrics = Metrics(sessions=sessions)
        try:
            metrics.serve(port, settings.metrics_address)
        except OSError as exc:
            log.warning(
                "METRICS_PORT=%d: cannot listen on %s:%d (%s); no metrics are served.",
                port,
                settings.metrics_address,
                port,
                exc.strerror or exc,
            )
            metrics = None
        else:
            log.info("telemetry: metrics on http://%s:%d/metrics", settings.metrics_address, port)
    if tracing is None and metrics is None:
        return None
    _running = Telemetry(tracing, metrics)
    observe.install(_running)
    return _running


def stop(timeout: float = 5.0) -> None:
    """Stop observing; send the traces still queued (for at most `timeout` seconds,
    then they are dropped) and close the metrics port."""
    global _running
    running, _running = _running, None
    observe.install(None)
    if running is not None:
        running.close(timeout)
