"""Traces over OTLP/HTTP: the OpenTelemetry SDK, imported only when an endpoint is set.

One trace per answer (`observer.py` says which spans). The provider is the
app's own, not the process-wide global one: libraries that trace themselves
(the MCP SDK does) stay silent rather than sending traces of their own that
belong to no answer.

Spans leave through a `BatchSpanProcessor`: ending a span puts it in a queue
(no I/O on the answer's thread); the processor's thread sends them in batches.
The standard OTEL_* variables are the SDK's: OTEL_SERVICE_NAME (default
"assistants-ui"), OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS,
OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_EXPORTER_OTLP_COMPRESSION,
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (a full URL instead of ENDPOINT/v1/traces),
OTEL_TRACES_SAMPLER, OTEL_BSP_*.

An endpoint that is down: the SDK's exporter retries each batch with backoff
and logs every attempt. `_OneWarning` stands between the processor and the
exporter: it says once that traces cannot be sent (naming the endpoint and
why), once that they can again, and silences the SDK's own lines meanwhile.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from opentelemetry import context, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

__all__ = ["Tracing"]

log = logging.getLogger(__name__)

# The SDK's loggers that speak of exports: silenced while `_OneWarning` speaks for them.
_EXPORT_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.common.http",
)
_PROCESSOR_LOGGER = "opentelemetry.sdk._shared_internal"  # "Queue full, dropping spans."


def _why(message: str) -> str:
    """The reason in one of the SDK's log lines, short: "Connection refused", "HTTP 503"."""
    errno = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", message)
    if errno:
        return errno.group(1).strip()
    status = re.search(r"code: (\d{3})", message)
    if status:
        return f"HTTP {status.group(1)}"
    if "due to timeout, max retries or shutdown" in message:
        return ""  # the SDK's last word on a batch, which names no cause
    if "timed out" in message.lower():
        return "no answer in time"
    return message[:160]


class _OneWarning(SpanExporter, logging.Filter):
    """The OTLP exporter, speaking once per outage instead of once per batch and retry."""

    def __init__(self, inner: SpanExporter, where: str) -> None:
        logging.Filter.__init__(self)
        self.inner = inner
        self.where = where
        self.failing = False
        self.abandoned = False
        self.reason = ""
        for name in _EXPORT_LOGGERS:
            logging.getLogger(name).addFilter(self)
        logging.getLogger(_PROCESSOR_LOGGER).addFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == _PROCESSOR_LOGGER:
            return not (self.failing or self.abandoned)  # a full queue: the outage's doing
        if record.levelno >= logging.WARNING and not self.reason:
            self.reason = _why(record.getMessage())  # the batch's first word: the cause
        return False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self.abandoned:
            return SpanExportResult.FAILURE
        self.reason = ""
        try:
            result = self.inner.export(spans)
        except Exception as exc:  # an exporter that breaks its promise
            self.reason = f"{type(exc).__name__}: {exc}"[:160]
            result = SpanExportResult.FAILURE
        if result is SpanExportResult.FAILURE:
            if not self.failing and not self.abandoned:
                self.failing = True
                log.warning(
                    "Traces cannot be sent to %s (%s). Answers go on; their traces are "
                    "dropped until it answers (OTEL_EXPORTER_OTLP_ENDPOINT).",
                    self.where,
                    self.reason or "no answer",
                )
        elif self.failing:
            self.failing = False
            log.info("Traces reach %s again.", self.where)
        return result

    def abandon(self) -> None:
        """Drop what is left and stop retrying (the app is stopping)."""
        self.abandoned = True
        self.inner.shutdown()

    def shutdown(self) -> None:
        if not self.abandoned:
            self.inner.shutdown()
        for name in _EXPORT_LOGGERS:
            logging.getLogger(name).removeFilter(self)
        logging.getLogger(_PROCESSOR_LOGGER).removeFilter(self)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _app_version() -> str:
    try:
        return version("assistants-ui")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


class Tracing:
    """The app's tracer, its batch processor and exporter."""

    def __init__(self, endpoint: str) -> None:
        own = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
        self.where = own or f"{endpoint.rstrip('/')}/v1/traces"
        self.exporter = _OneWarning(OTLPSpanExporter(endpoint=self.where), self.where)
        resource = Resource.create(
            {"service.name": "assistants-ui", "service.version": _app_version()}
        )
        self.provider = TracerProvider(resource=resource)
        self.provider.add_span_processor(BatchSpanProcessor(self.exporter))
        self.tracer = self.provider.get_tracer("assistants_ui", _app_version())

    # -- spans -------------------------------------------------------------------------

    def start(
        self,
        name: str,
        attributes: dict[str, Any],
        *,
        parent: Span | None = None,
        root: bool = False,
        client: bool = False,
    ) -> Span:
        """A span, child of `parent`, or of the calling thread's current span (`root`:
        of none). Not made current; the caller ends it."""
        if root:
            where: context.Context | None = context.Context()
        elif parent is not None:
            where = trace.set_span_in_context(parent)
        else:
            where = None
        kind = SpanKind.CLIENT if client else SpanKind.INTERNAL
        return self.tracer.start_span(name, where, kind, attributes)

    @contextmanager
    def active(self, span: Span) -> Iterator[None]:
        """`span` is the calling thread's current span inside the block."""
        token = context.attach(trace.set_span_in_context(span))
        try:
            yield
        finally:
            context.detach(token)

    @contextmanager
    def child(
        self, name: str, attributes: dict[str, Any], *, client: bool = False
    ) -> Iterator[Span]:
        """A child of the current span, current inside the block, ended after it; an
        exception through it marks it failed (a `BackendError`'s failure code)."""
        span = self.start(name, attributes, client=client)
        token = context.attach(trace.set_span_in_context(span))
        try:
            yield span
        except BaseException as exc:
            self.fail(span, str(getattr(exc, "code", "") or type(exc).__name__))
            raise
        finally:
            context.detach(token)
            span.end()

    @staticmethod
    def current() -> Span:
        return trace.get_current_span()

    @staticmethod
    def recording() -> bool:
        """The calling thread is inside a span being recorded (an answer's)."""
        return trace.get_current_span().is_recording()

    @staticmethod
    def fail(span: Span, error_type: str) -> None:
        span.set_attribute("error.type", error_type)
        span.set_status(Status(StatusCode.ERROR, error_type))

    @staticmethod
    def usage(span: Span, input_tokens: int, output_tokens: int) -> None:
        span.set_attribute("gen_ai.usage.input_tokens", input_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", output_tokens)

    # -- the end -----------------------------------------------------------------------

    def flush(self) -> None:
        """Send what is queued now (tests; blocks while the exporter tries)."""
        self.provider.force_flush()

    def shutdown(self, timeout: float) -> None:
        """Send what is queued, for at most `timeout` seconds; then drop the rest."""
        done = threading.Thread(target=self.provider.shutdown, name="otel-shutdown", daemon=True)
        done.start()
        done.join(timeout)
        if done.is_alive() and not self.exporter.failing:
            log.warning(
                "Traces still queued after %g s were dropped (%s does not answer).",
                timeout,
                self.where,
            )
        if done.is_alive():
            self.exporter.abandon()
            done.join(1.0)
