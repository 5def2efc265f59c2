"""What `assistants-ui run` serves: Streamlit's page (`entry.py`) with security headers
and an upload gate.

`streamlit run` finds the `app` below (an `st.App`, Streamlit's ASGI application)
and serves it on the same Starlette server it uses for a plain script, with
`headers.SecurityHeaders` in front of every HTTP response. So a deployment
without a proxy gets the same policy as one behind the nginx template.
Websocket messages carry no headers; the page that opens the websocket does.
`upload_gate.UploadGate` refuses uploads for sessions nobody is signed in to.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from assistants_ui.web.headers import SecurityHeaders
from assistants_ui.web.upload_gate import UploadGate

__all__ = ["app"]

app = st.App(
    Path(__file__).with_name("entry.py"),
    middleware=[Middleware(SecurityHeaders), Middleware(UploadGate)],
)
