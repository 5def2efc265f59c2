"""Security headers on every HTTP response of the app (an ASGI middleware).

The policy, measured in Chromium against Streamlit 1.67: images, media, scripts,
styles, fonts and connections only from the app itself (data: and blob: images
are its own charts and previews); inline styles (Streamlit's CSS-in-JS needs
them); WebAssembly and blob: scripts (Streamlit makes them); blob: connections
(the chat input's audio recorder reads back its own recording); the page's one
inline script (`window.prerenderReady = false`) by its hash; framing only by
the app itself. The nginx template (deploy/nginx/assistants-ui.conf.template)
sends the same `POLICY`; tests/deploy/test_nginx_headers.py checks that they
match and that the page works under it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["HEADERS", "POLICY", "SecurityHeaders"]

POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' data: blob:; "
    "style-src 'self' 'unsafe-inline'; font-src 'self' data:; "
    "script-src 'self' 'wasm-unsafe-eval' blob: "
    "'sha256-THxz9J9+wf7rhwR2YkXJoSZ13UCmYyC+3lNDv2+8ugA='; "
    "connect-src 'self' blob:; worker-src 'self' blob:; frame-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class SecurityHeaders:
    """ASGI middleware: `HEADERS` on every HTTP response (unless already set)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app
        self.raw = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in self.raw if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
