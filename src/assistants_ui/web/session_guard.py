"""One check in front of every run of the page: full runs, fragment runs, and callbacks.

Streamlit runs a widget's callback (`on_click`, `on_change`) at the start of
the run the interaction starts, before the page script; and a fragment's
rerun (the sidebar's history search, the copy button, ...) runs only that
fragment, with the arguments of the full run that drew it. Neither passes
through the page's sign-in check (`login_view.current_identity`), so a tab
still open after its login ended (logged out elsewhere, the user disabled,
the password changed, the session taken over on another connection) kept
searching and changing that user's data.

`install(check)` puts one check in front of all of them: Streamlit's
`SafeSessionState.on_script_will_rerun`, which every run the browser asks for
(full or fragment) goes through before any callback, is wrapped once per
process. When `check(fragment)` refuses, the interaction is dropped (no
callback runs and no widget takes the values sent) and a fragment run becomes
a full run, which shows the login page. The check is `login_view.guard`.

This is Streamlit's internal API (1.67): `tests/web/test_session_guard.py`
runs the app as `make run` runs it and fails if the hook stops being called.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.state.safe_session_state import SafeSessionState

__all__ = ["Check", "install"]

log = logging.getLogger(__name__)

Check = Callable[[bool], bool]  # check(fragment run?) -> may this run go on as asked?

_check: Check | None = None
_MARK = "_assistants_ui_guarded"


def install(check: Check) -> None:
    """Run `check` before every run's callbacks (idempotent; the last check wins)."""
    global _check
    _check = check
    if getattr(SafeSessionState.on_script_will_rerun, _MARK, False):
        return
    original = SafeSessionState.on_script_will_rerun

    @functools.wraps(original)
    def guarded(self: SafeSessionState, fresh_widget_states: Any, **kwargs: Any) -> None:
        ctx = get_script_run_ctx(suppress_warning=True)
        fragment = bool(ctx is not None and ctx.fragment_ids_this_run)
        if _check is None or _check(fragment):
            original(self, fresh_widget_states, **kwargs)
            return
        # Refused: no callback runs and no widget takes what was sent; triggers reset.
        original(self, None)
        if fragment:
            log.info("a fragment run was refused: the whole page runs instead")
            st.rerun(scope="app")

    setattr(guarded, _MARK, True)
    SafeSessionState.on_script_will_rerun = guarded  # type: ignore[method-assign]
