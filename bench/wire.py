"""The bytes a page's websocket really carries: a counting TCP relay on loopback.

The browser's own count (DevTools' websocket frames) is each message as the page
reads it, after the `permessage-deflate` extension has inflated it. What crossed
the network is counted here instead: the browser talks to the relay, the relay to
the app, and every byte the app sends back on a `/_stcore/stream` connection
(websocket frame headers and compressed payloads; not TCP/IP headers) is added up.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

__all__ = ["WireMeter", "wire_meter"]

_STREAM = b"GET /_stcore/stream"


class WireMeter:
    """`url` reaches the app through the relay; `received` is the websocket bytes so far."""

    def __init__(self, listener: socket.socket, target: tuple[str, int]) -> None:
        self.listener = listener
        self.target = target
        host, port = listener.getsockname()[:2]
        self.url = f"http://{host}:{port}"
        self.received = 0
        self._lock = threading.Lock()

    def serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed: the meter is done
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        with client, socket.create_connection(self.target) as app:
            first = client.recv(65536)
            if not first:
                return
            app.sendall(first)
            counted = first.startswith(_STREAM)
            up = threading.Thread(target=_pump, args=(client, app, None), daemon=True)
            up.start()
            _pump(app, client, self._count if counted else None)
            up.join(timeout=1)

    def _count(self, n: int) -> None:
        with self._lock:
            self.received += n


def _pump(src: socket.socket, dst: socket.socket, count: Callable[[int], None] | None) -> None:
    with suppress(OSError):
        while data := src.recv(65536):
            dst.sendall(data)
            if count is not None:
                count(len(data))
    with suppress(OSError):
        dst.shutdown(socket.SHUT_WR)


@contextmanager
def wire_meter(url: str) -> Iterator[WireMeter]:
    """A relay in front of the app at `url` (http://127.0.0.1:PORT)."""
    host, port = url.removeprefix("http://").split(":")
    listener = socket.create_server(("127.0.0.1", 0))
    meter = WireMeter(listener, (host, int(port)))
    thread = threading.Thread(target=meter.serve, daemon=True)
    thread.start()
    try:
        yield meter
    finally:
        listener.close()
        thread.join(timeout=2)
