"""A page with only the login in front (tests: AppTest and the browser).

What the real page does around `current_identity`: a database per process,
stop when no one is signed in, `logout_control` in the sidebar.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from assistants_ui.settings import load_settings
from assistants_ui.storage import Repository, open_database
from assistants_ui.web.login_view import current_identity, logout_control


@st.cache_resource
def _repository(where: str) -> Repository:
    return Repository(open_database(load_settings()[0]))


settings, _ = load_settings()
identity = current_identity(settings, _repository(f"{Path.cwd()} {settings.database_url}"))
if identity is None:
    st.stop()
st.markdown(
    f"Signed in: provider={identity.auth_provider} subject={identity.subject} "
    f"name={identity.display_name} email={identity.email or ''}"
)
with st.sidebar:
    logout_control()
