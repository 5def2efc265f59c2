"""The page's cookies: read from the connection, written by the browser.

Cookies are read from `st.context.cookies` (what the browser sent when the
connection opened) and written by a tiny `st.components.v2` component that
sets `document.cookie` in the page. A write is drawn on every run for
`WRITE_SECONDS` after it is asked for, so it is not lost to a rerun or a
reconnect, and then no more: a cookie's value crosses the (compressed)
websocket only in those runs, not beside every later answer (docs/security.md,
"The websocket"). The login (`login_view`) and the reader's language
(`language`) keep theirs here.

Session-state key: `_WRITES_KEY` (this module's own).
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

__all__ = ["WRITE_SECONDS", "read", "render", "write"]

_WRITES_KEY = "auth_cookie_ops"  # cookie writes the page is drawing
WRITE_SECONDS = 30.0  # how long a cookie write is drawn on every run

_Writes = dict[str, tuple[dict[str, Any], float]]  # cookie name: (its write, until when)

_JS = """
export default function (component) {
  const ops = (component.data && component.data.ops) || [];
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  for (const op of ops) {
    document.cookie =
      `${op.name}=${op.value}; Path=/; Max-Age=${op.max_age}; SameSite=Lax${secure}`;
  }
}
"""
_jar = st.components.v2.component("assistants_ui_cookie_jar", js=_JS)


def write(name: str, value: str, max_age: int) -> None:
    """Ask the browser to store (max_age > 0) or delete (0) a cookie, from this run on."""
    ops: _Writes = dict(st.session_state.get(_WRITES_KEY, {}))
    op = {"name": name, "value": value, "max_age": max_age}
    ops[name] = (op, time.monotonic() + WRITE_SECONDS)
    st.session_state[_WRITES_KEY] = ops


def render() -> None:
    """The writes of the last `WRITE_SECONDS`; none once they are older."""
    ops: _Writes = st.session_state.get(_WRITES_KEY, {})
    now = time.monotonic()
    live = {name: (op, until) for name, (op, until) in ops.items() if until > now}
    if len(live) != len(ops):
        st.session_state[_WRITES_KEY] = live
    if live:
        data = {"ops": [op for op, _until in live.values()]}
        _jar(data=data, key="auth-cookie-jar", height=0)
    elif _WRITES_KEY in st.session_state:
        # Its place kept, so the page's next elements keep theirs: when they all moved
        # up one place, the next run sent every earlier answer again instead of by
        # reference (+17 kB at the 8th question of bench.stream_render --conversation).
        st.empty()


def read(name: str) -> str | None:
    """A cookie of this run's connection (what its browser sent when it opened)."""
    try:
        value = st.context.cookies.get(name)
    except Exception:  # no browser behind this run (bare mode)
        return None
    return value if isinstance(value, str) else None
