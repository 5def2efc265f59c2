"""An OTLP/HTTP trace receiver on 127.0.0.1, for tests and benchmarks.

What a Collector's `otlp` receiver does with `POST /v1/traces`: the body is an
`ExportTraceServiceRequest` (protobuf, maybe gzip), decoded here with the
protocol's own generated classes (`opentelemetry-proto`), and answered with an
empty `ExportTraceServiceResponse`. Each span is kept as a `ReceivedSpan`.

    with OtlpReceiver() as receiver:
        ... OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url ...
        receiver.wait_for(lambda spans: any(s.name == "x" for s in spans))

`hold()` makes it keep the next export requests unanswered until `release()`
(what a slow collector does), with `arrived` set once one is being held.
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

__all__ = ["OtlpReceiver", "ReceivedSpan"]

KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
STATUS = {0: "unset", 1: "ok", 2: "error"}


def _value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which == "array_value":
        return [_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, which) if which else None


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    kind: str
    attributes: dict[str, Any]
    status: str
    status_message: str
    resource: dict[str, Any] = field(repr=False)
    start_ns: int = field(repr=False, default=0)
    end_ns: int = field(repr=False, default=0)

    def __getitem__(self, key: str) -> Any:
        return self.attributes[key]


class OtlpReceiver:
    """`POST /v1/traces` on 127.0.0.1 (a free port, or `port`)."""

    def __init__(self, port: int = 0) -> None:
        self.spans: list[ReceivedSpan] = []
        self.requests = 0
        self._changed = threading.Condition()
        self._open = threading.Event()
        self._open.set()
        self.arrived = threading.Event()  # a request is being held (`hold`)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                if self.path != "/v1/traces":
                    self.send_error(404)
                    return
                if not receiver._open.is_set():
                    receiver.arrived.set()
                    receiver._open.wait()
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver._keep(request)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _keep(self, request: ExportTraceServiceRequest) -> None:
        received = []
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received.append(
                        ReceivedSpan(
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex(),
                            kind=KINDS.get(span.kind, str(span.kind)),
                            attributes={a.key: _value(a.value) for a in span.attributes},
                            status=STATUS.get(span.status.code, str(span.status.code)),
                            status_message=span.status.message,
                            resource=resource,
                            start_ns=span.start_time_unix_nano,
                            end_ns=span.end_time_unix_nano,
                        )
                    )
        with self._changed:
            self.requests += 1
            self.spans.extend(received)
            self._changed.notify_all()

    def start(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def hold(self) -> None:
        """Keep the next requests unanswered until `release()`."""
        self.arrived.clear()
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def wait_for(
        self, done: Callable[[list[ReceivedSpan]], bool], timeout: float = 30.0
    ) -> list[ReceivedSpan]:
        """The spans received once `done(spans)` holds; AssertionError if it never does."""
        with self._changed:
            if not self._changed.wait_for(lambda: done(list(self.spans)), timeout):
                names = sorted({s.name for s in self.spans})
                raise AssertionError(f"not received within {timeout:g} s; spans so far: {names}")
            return list(self.spans)
