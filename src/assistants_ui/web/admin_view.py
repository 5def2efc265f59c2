"""The admin page: usage, users (disable, enable), per-user daily limits, the audit log.

Registered by `app.py` as a second page of `st.navigation` only for admins
(`auth.admins`: ADMIN_USERS or `[auth] admin_groups`); `render_admin` checks
again, so that the page is empty for anyone else whatever URL they open.
Everything it reads and changes goes through `storage.admin.Admin`, which
writes each change to the audit log with the acting admin's name.

Every sentence the page shows is a constant below (one place, ready for
gettext).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import streamlit as st

from assistants_ui.core.limits import EVERYONE, GUESTS, Limit, user_target
from assistants_ui.core.safe_markdown import literal
from assistants_ui.storage import NotFound
from assistants_ui.storage.admin import Admin, DayUsage, UserUsage

__all__ = ["PAGE_TITLE", "URL_PATH", "render_admin"]

# -- what the page says -------------------------------------------------------------------
PAGE_TITLE = "Admin"
URL_PATH = "admin"
NOT_ADMIN = "This page is for the app's administrators."
USAGE_HEADER = "Usage"
DAYS_LABEL = "Days"
MEASURE_LABEL = "Show"
MESSAGES = "Messages"
TOKENS = "Tokens"
METRIC_USERS = "Users"
METRIC_MESSAGES = "Messages sent ({days} days)"
METRIC_TOKENS = "Tokens used ({days} days)"
NO_USAGE = "Nothing was sent in the last {days} days."
USAGE_AGE = "Usage figures are refreshed every minute."
CSV_BUTTON = "Download usage per user, day and assistant (CSV)"
CSV_HEADER = ("day", "user_id", "user", "assistant", "messages", "tokens")
CHART_DAY = "Day (UTC)"
CHART_ASSISTANT = "Assistant"
USERS_HEADER = "Users"
SEARCH_LABEL = "Find a user"
SEARCH_HELP = "Part of a name, login or e-mail address."
USERS_SHOWN = "{first}–{last} of {total} users, most recently active first."
NO_USERS = "No user matches."
PREVIOUS = "Previous"
NEXT = "Next"
COL_USER = "User"
COL_METHOD = "Sign-in"
COL_EMAIL = "E-mail"
COL_LAST = "Last activity (UTC)"
COL_CONVERSATIONS = "Conversations"
COL_MESSAGES = "Messages"
COL_TOKENS = "Tokens"
COL_DISABLED = "Disabled"
USER_LABEL = "User to manage"
USER_DISABLED = "{user} is disabled: signed out, and cannot sign in."
USER_ACTIVE = "{user} can use the app."
DISABLE = "Disable"
ENABLE = "Enable"
DISABLED_TOAST = "{user} is disabled: signed out at their next action."
ENABLED_TOAST = "{user} is enabled again."
GONE = "This user does not exist any more."
LIMITS_HEADER = "Daily limits"
LIMITS_INTRO = (
    "Messages and/or tokens per UTC day, reset at 00:00 UTC. A user's own limit wins over "
    "the guests' one, which wins over everyone's; a limit for one assistant and one for all "
    "assistants both apply. Leave both amounts blank to remove a limit; 0 blocks sending."
)
TARGET_LABEL = "Applies to"
TARGET_EVERYONE = "Everyone"
TARGET_GUESTS = "Every guest (anonymous browser)"
TARGET_USER = "{user} only"
ASSISTANT_LABEL = "Assistant"
ALL_ASSISTANTS = "All assistants together"
MESSAGES_LABEL = "Messages per day"
TOKENS_LABEL = "Tokens per day"
AMOUNT_HELP = "A whole number; blank: no cap."
SAVE_LIMIT = "Save limit"
LIMIT_SAVED = "Limit saved."
LIMIT_REMOVED = "Limit removed."
NO_LIMIT_TO_REMOVE = "There was no such limit: nothing changed."
NO_LIMITS = "No limit is set: everyone may send as much as they like."
COL_TARGET = "Applies to"
COL_ASSISTANT = "Assistant"
COL_MESSAGES_DAY = "Messages/day"
COL_TOKENS_DAY = "Tokens/day"
AUDIT_HEADER = "Audit log"
AUDIT_EMPTY = "No admin action yet."
COL_AT = "When (UTC)"
COL_ACTOR = "Who"
COL_ACTION = "Action"
COL_TARGET_AUDIT = "Whom"
COL_DETAIL = "Detail"
GUEST_METHOD = "guest"
# ------------------------------------------------------------------------------------------

PAGE_SIZE = 50
USAGE_SECONDS = 60  # how long the usage chart's figures are reused
_OFFSET_KEY = "admin_offset"  # the users table's page (session state, this module's own)
_MESSAGE_KEY = "admin_message"  # a confirmation or refusal to show after the rerun


def _say(kind: str, text: str) -> None:
    st.session_state[_MESSAGE_KEY] = (kind, text)


def _show_message() -> None:
    found = st.session_state.pop(_MESSAGE_KEY, None)
    if found is None:
        return
    kind, text = found
    (st.error if kind == "error" else st.success)(text)


def render_admin(admin: Admin, *, actor: str, allowed: bool, profiles: Sequence[str]) -> None:
    """The admin page, for `actor` (named in the audit log); nothing unless `allowed`."""
    st.title(f"🛡️ {PAGE_TITLE}")
    if not allowed:
        st.error(NOT_ADMIN, icon="🔒")
        return
    _show_message()
    _usage(admin)
    chosen = _users(admin, actor)
    _limits(admin, actor, chosen, profiles)
    _audit(admin)


@st.cache_data(ttl=USAGE_SECONDS, show_spinner=False, max_entries=8)
def _daily_usage(_admin: Admin, days: int) -> list[DayUsage]:
    """All users' usage per day and assistant: reading a month of a large history takes
    about half a second (docs/benchmarks.md), so every admin's reruns share it for a minute."""
    return _admin.daily_usage(days=days)


def _usage(admin: Admin) -> None:
    st.header(USAGE_HEADER)
    left, right = st.columns(2)
    days = (
        left.segmented_control(
            DAYS_LABEL, [7, 30, 90], default=30, key="admin_days", format_func=str
        )
        or 30
    )
    measure = (
        right.segmented_control(
            MEASURE_LABEL, [MESSAGES, TOKENS], default=MESSAGES, key="admin_measure"
        )
        or MESSAGES
    )
    rows = _daily_usage(admin, days)
    a, b, c = st.columns(3)
    a.metric(METRIC_USERS, f"{admin.count_users():,}")
    b.metric(METRIC_MESSAGES.format(days=days), f"{sum(r.messages for r in rows):,}")
    c.metric(METRIC_TOKENS.format(days=days), f"{sum(r.tokens for r in rows):,}")
    if not rows:
        st.info(NO_USAGE.format(days=days))
    else:
        frame = {
            CHART_DAY: [r.day.isoformat() for r in rows],
            CHART_ASSISTANT: [r.profile_id for r in rows],
            measure: [r.messages if measure == MESSAGES else r.tokens for r in rows],
        }
        st.bar_chart(frame, x=CHART_DAY, y=measure, color=CHART_ASSISTANT)
    st.caption(USAGE_AGE)
    st.download_button(
        CSV_BUTTON,
        data=lambda: _csv(admin.daily_usage(days=days, per_user=True)),
        file_name=f"usage-{days}-days.csv",
        mime="text/csv",
        icon=":material/download:",
        key="admin_csv",
        on_click="ignore",
    )


def _csv(rows: Sequence[DayUsage]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for r in rows:
        writer.writerow([r.day.isoformat(), r.user_id, r.user, r.profile_id, r.messages, r.tokens])
    return out.getvalue()


def _page_to(offset: int) -> None:
    st.session_state[_OFFSET_KEY] = max(0, offset)


def _users(admin: Admin, actor: str) -> UserUsage | None:
    """The users table; returns the user picked for managing (None: none)."""
    st.header(USERS_HEADER)
    query = st.text_input(
        SEARCH_LABEL,
        key="admin_search",
        help=SEARCH_HELP,
        max_chars=100,
        on_change=_page_to,
        args=(0,),
    )
    total = admin.count_users(query=query)
    offset = min(int(st.session_state.get(_OFFSET_KEY, 0)), max(0, total - 1))
    users = admin.users(query=query, limit=PAGE_SIZE, offset=offset) if total else []
    if not users:
        st.info(NO_USERS)
        return None
    st.caption(USERS_SHOWN.format(first=offset + 1, last=offset + len(users), total=total))
    st.dataframe(
        (
            {
                COL_USER: [u.label for u in users],
                COL_METHOD: [_method(u) for u in users],
                COL_EMAIL: [u.email for u in users],
                COL_LAST: [u.last_activity.strftime("%Y-%m-%d %H:%M") for u in users],
                COL_CONVERSATIONS: [u.conversations for u in users],
                COL_MESSAGES: [u.messages for u in users],
                COL_TOKENS: [u.tokens for u in users],
                COL_DISABLED: [u.disabled for u in users],
            }
        ),
        hide_index=True,
        key="admin_users_table",
    )
    back, forward = st.columns(2)
    back.button(
        PREVIOUS,
        key="admin_prev",
        disabled=offset == 0,
        on_click=_page_to,
        args=(offset - PAGE_SIZE,),
    )
    forward.button(
        NEXT,
        key="admin_next",
        disabled=offset + PAGE_SIZE >= total,
        on_click=_page_to,
        args=(offset + PAGE_SIZE,),
    )
    by_id = {u.id: u for u in users}
    picked = st.selectbox(
        USER_LABEL,
        list(by_id),
        format_func=lambda uid: f"{by_id[uid].label} ({_method(by_id[uid])})",
        key="admin_user",
    )
    chosen = by_id.get(picked) if picked is not None else None
    if chosen is not None:
        _manage(admin, actor, chosen)
    return chosen


def _method(user: UserUsage) -> str:
    return GUEST_METHOD if user.auth_provider == "anonymous" else user.auth_provider


def _set_disabled(admin: Admin, actor: str, user: UserUsage, disabled: bool) -> None:
    try:
        admin.set_disabled(actor=actor, user_id=user.id, disabled=disabled)
    except NotFound:
        _say("error", GONE)
        return
    _say("success", (DISABLED_TOAST if disabled else ENABLED_TOAST).format(user=user.label))


def _manage(admin: Admin, actor: str, user: UserUsage) -> None:
    name = literal(user.label)
    if user.disabled:
        st.warning(USER_DISABLED.format(user=name), icon="🚫")
        st.button(
            ENABLE, key="admin_enable", on_click=_set_disabled, args=(admin, actor, user, False)
        )
    else:
        st.caption(USER_ACTIVE.format(user=name))
        st.button(
            DISABLE,
            key="admin_disable",
            type="primary",
            on_click=_set_disabled,
            args=(admin, actor, user, True),
        )


def _target_label(target: str, chosen: UserUsage | None) -> str:
    if target == EVERYONE:
        return TARGET_EVERYONE
    if target == GUESTS:
        return TARGET_GUESTS
    return TARGET_USER.format(user=chosen.label if chosen else f"#{target.removeprefix('user:')}")


def _save_limit(admin: Admin, actor: str) -> None:
    state = st.session_state
    try:
        saved = admin.set_limit(
            actor=actor,
            target=state["admin_limit_target"],
            profile_id=state["admin_limit_profile"],
            messages=state["admin_limit_messages"],
            tokens=state["admin_limit_tokens"],
        )
    except ValueError as exc:
        _say("error", str(exc))
        return
    except NotFound:
        _say("error", GONE)
        return
    blank = (
        not str(state["admin_limit_messages"]).strip()
        and not str(state["admin_limit_tokens"]).strip()
    )
    _say("success", LIMIT_REMOVED if blank and saved is None else LIMIT_SAVED)


def _limits(admin: Admin, actor: str, chosen: UserUsage | None, profiles: Sequence[str]) -> None:
    st.header(LIMITS_HEADER)
    st.caption(LIMITS_INTRO)
    targets = [EVERYONE, GUESTS] + ([user_target(chosen.id)] if chosen else [])
    with st.form("admin_limit_form"):
        st.selectbox(
            TARGET_LABEL,
            targets,
            format_func=lambda t: _target_label(t, chosen),
            key="admin_limit_target",
        )
        st.selectbox(
            ASSISTANT_LABEL,
            ["", *profiles],
            format_func=lambda p: p or ALL_ASSISTANTS,
            key="admin_limit_profile",
        )
        left, right = st.columns(2)
        left.text_input(MESSAGES_LABEL, key="admin_limit_messages", help=AMOUNT_HELP, max_chars=20)
        right.text_input(TOKENS_LABEL, key="admin_limit_tokens", help=AMOUNT_HELP, max_chars=20)
        st.form_submit_button(SAVE_LIMIT, on_click=_save_limit, args=(admin, actor))
    limits = admin.limits()
    if not limits:
        st.caption(NO_LIMITS)
        return
    st.dataframe(
        (
            {
                COL_TARGET: [_limit_target(limit, chosen) for limit in limits],
                COL_ASSISTANT: [limit.profile_id or ALL_ASSISTANTS for limit in limits],
                COL_MESSAGES_DAY: [_amount(limit.messages) for limit in limits],
                COL_TOKENS_DAY: [_amount(limit.tokens) for limit in limits],
            }
        ),
        hide_index=True,
        key="admin_limits_table",
    )


def _limit_target(limit: Limit, chosen: UserUsage | None) -> str:
    if chosen is not None and limit.target == user_target(chosen.id):
        return _target_label(limit.target, chosen)
    return _target_label(limit.target, None)


def _amount(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _audit(admin: Admin) -> None:
    st.header(AUDIT_HEADER)
    entries = admin.audit(limit=100)
    if not entries:
        st.caption(AUDIT_EMPTY)
        return
    st.dataframe(
        (
            {
                COL_AT: [e.at.strftime("%Y-%m-%d %H:%M:%S") for e in entries],
                COL_ACTOR: [e.actor for e in entries],
                COL_ACTION: [e.action for e in entries],
                COL_TARGET_AUDIT: [e.target for e in entries],
                COL_DETAIL: [e.detail for e in entries],
            }
        ),
        hide_index=True,
        key="admin_audit_table",
    )
