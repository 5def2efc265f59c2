"""The admin page: usage, users (disable, enable, groups), per-user daily limits, who can
use which assistant, the audit log.

Registered by `app.py` as a second page of `st.navigation` only for admins
(`auth.admins`: ADMIN_USERS or `[auth] admin_groups`); `render_admin` checks
again, so that the page is empty for anyone else whatever URL they open, and
so does every action's callback, which Streamlit runs at the start of the next
run, before the page asks who is an admin (`_as_admin`): someone whose rights
were taken away meanwhile changes nothing. (Whether the clicker is still signed
in, not disabled, not logged out, is checked before any callback runs:
`login_view.guard`.)
Everything it reads and changes goes through `storage.admin.Admin`, which
writes each change to the audit log with the acting admin's name.

Every sentence the page shows is a constant below, marked with `N_()` and
translated where it is shown (`_()`); numbers and dates are formatted for the
language (docs/translations.md). The CSV stays machine-readable English.

Names are data: a user's name and e-mail (a single sign-on user chooses the
name claim) reach the page only as text (`literal` in messages, the tables and
pickers, which render none), and the CSV neutralises cells a spreadsheet would
run as a formula (`_cell`).
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable, Sequence
from typing import ParamSpec

import streamlit as st

from assistants_ui.core.limits import EVERYONE, GUESTS, Limit, user_target
from assistants_ui.core.safe_markdown import literal
from assistants_ui.i18n import N_, _, format_datetime, format_number
from assistants_ui.profiles import Profile
from assistants_ui.storage import NotFound
from assistants_ui.storage.admin import Admin, DayUsage, UserUsage
from assistants_ui.storage.groups import MAX_MEMBERS, SSO, Groups

__all__ = ["PAGE_TITLE", "URL_PATH", "render_admin"]

# -- what the page says -------------------------------------------------------------------
PAGE_TITLE = N_("Admin")
URL_PATH = "admin"
NOT_ADMIN = N_("This page is for the app's administrators.")
USAGE_HEADER = N_("Usage")
DAYS_LABEL = N_("Days")
MEASURE_LABEL = N_("Show")
MESSAGES = N_("Messages")
TOKENS = N_("Tokens")
METRIC_USERS = N_("Users")
METRIC_MESSAGES = N_("Messages sent (%(days)s days)")
METRIC_TOKENS = N_("Tokens used (%(days)s days)")
NO_USAGE = N_("Nothing was sent in the last %(days)s days.")
USAGE_AGE = N_("Usage figures are refreshed every minute.")
CSV_BUTTON = N_("Download usage per user, day and assistant (CSV)")
CSV_HEADER = ("day", "user_id", "user", "assistant", "messages", "tokens")
CHART_DAY = N_("Day (UTC)")
CHART_ASSISTANT = N_("Assistant")
USERS_HEADER = N_("Users")
SEARCH_LABEL = N_("Find a user")
SEARCH_HELP = N_("Part of a name, login or e-mail address.")
USERS_SHOWN = N_("%(first)s–%(last)s of %(total)s users, most recently active first.")
NO_USERS = N_("No user matches.")
PREVIOUS = N_("Previous")
NEXT = N_("Next")
COL_USER = N_("User")
COL_METHOD = N_("Sign-in")
COL_EMAIL = N_("E-mail")
COL_LAST = N_("Last activity (UTC)")
COL_CONVERSATIONS = N_("Conversations")
COL_MESSAGES = N_("Messages")
COL_TOKENS = N_("Tokens")
COL_DISABLED = N_("Disabled")
USER_LABEL = N_("User to manage")
USER_DISABLED = N_("%(user)s is disabled: signed out, and cannot sign in.")
USER_ACTIVE = N_("%(user)s can use the app.")
DISABLE = N_("Disable")
ENABLE = N_("Enable")
DISABLED_TOAST = N_("%(user)s is disabled: signed out at their next action.")
ENABLED_TOAST = N_("%(user)s is enabled again.")
GONE = N_("This user does not exist any more.")
LIMITS_HEADER = N_("Daily limits")
LIMITS_INTRO = N_(
    "Messages and/or tokens per UTC day, reset at 00:00 UTC. A user's own limit wins over "
    "the guests' one, which wins over everyone's; a limit for one assistant and one for all "
    "assistants both apply. Leave both amounts blank to remove a limit; 0 blocks sending."
)
TARGET_LABEL = N_("Applies to")
TARGET_EVERYONE = N_("Everyone")
TARGET_GUESTS = N_("Every guest (anonymous browser)")
TARGET_USER = N_("%(user)s only")
ASSISTANT_LABEL = N_("Assistant")
ALL_ASSISTANTS = N_("All assistants together")
MESSAGES_LABEL = N_("Messages per day")
TOKENS_LABEL = N_("Tokens per day")
AMOUNT_HELP = N_("A whole number; blank: no cap.")
SAVE_LIMIT = N_("Save limit")
LIMIT_SAVED = N_("Limit saved.")
LIMIT_REMOVED = N_("Limit removed.")
NO_LIMITS = N_("No limit is set: everyone may send as much as they like.")
COL_TARGET = N_("Applies to")
COL_ASSISTANT = N_("Assistant")
COL_MESSAGES_DAY = N_("Messages/day")
COL_TOKENS_DAY = N_("Tokens/day")
AUDIT_HEADER = N_("Audit log")
AUDIT_EMPTY = N_("No admin action yet.")
COL_AT = N_("When (UTC)")
COL_ACTOR = N_("Who")
COL_ACTION = N_("Action")
COL_TARGET_AUDIT = N_("Whom")
COL_DETAIL = N_("Detail")
GUEST_METHOD = N_("guest")
GROUPS_LABEL = N_("Groups of %(user)s")
GROUPS_HELP = N_(
    "Groups given here, for assistants restricted to groups (allowed_groups). Pick one or "
    "type a new name. A single sign-on user is also in the groups their sign-in brings."
)
GROUPS_PLACEHOLDER = N_("No group")
SAVE_GROUPS = N_("Save groups")
GROUPS_SAVED = N_("Groups of %(user)s saved: %(groups)s.")
NO_GROUPS = N_("none")
SSO_GROUPS = N_("From their last single sign-on: %(groups)s.")
ACCESS_HEADER = N_("Who can use which assistant")
ACCESS_INTRO = N_(
    "Set in assistants.toml with allowed_users (login names, e-mail addresses) and "
    "allowed_groups. An assistant with neither is open to everyone, guests included; anyone "
    "else never sees a restricted one. Users are listed as far as the app knows them: the "
    "groups given here, and those of each single sign-on user's last sign-in."
)
COL_OPEN_TO = N_("Open to")
COL_USERS_NOW = N_("Users who can use it")
COL_UNKNOWN_GROUPS = N_("Groups nobody is in")
EVERYONE_OPEN = N_("everyone, guests included")
LISTED_USERS = N_("users: %(names)s")
LISTED_GROUPS = N_("groups: %(names)s")
MORE_USERS = N_("and more")
# ------------------------------------------------------------------------------------------

PAGE_SIZE = 50
USAGE_SECONDS = 60  # how long the usage chart's figures are reused
_OFFSET_KEY = "admin_offset"  # the users table's page (session state, this module's own)
_MESSAGE_KEY = "admin_message"  # a confirmation or refusal to show after the rerun
_ALLOWED_KEY = "admin_allowed"  # whether the clicker is an admin now (asked by callbacks)

P = ParamSpec("P")


def _say(kind: str, text: str) -> None:
    st.session_state[_MESSAGE_KEY] = (kind, text)


def _show_message() -> None:
    found = st.session_state.pop(_MESSAGE_KEY, None)
    if found is None:
        return
    kind, text = found
    (st.error if kind == "error" else st.success)(text)


def _as_admin(action: Callable[P, None]) -> Callable[P, None]:
    """An action's callback, run only if the clicker is an admin when it runs."""

    @functools.wraps(action)
    def checked(*args: P.args, **kwargs: P.kwargs) -> None:
        allowed = st.session_state.get(_ALLOWED_KEY)
        if not callable(allowed) or not allowed():
            _say("error", _(NOT_ADMIN))
            return
        action(*args, **kwargs)

    return checked


def render_admin(
    admin: Admin,
    *,
    actor: str,
    allowed: Callable[[], bool],
    profiles: Sequence[str],
    assistants: Sequence[Profile] = (),
) -> None:
    """The admin page, for `actor` (named in the audit log); nothing unless `allowed()`,
    which every action asks again when it runs. `assistants`: the configured ones, for
    who can use what."""
    st.title(f"🛡️ {_(PAGE_TITLE)}")
    st.session_state[_ALLOWED_KEY] = allowed
    if not allowed():
        st.error(_(NOT_ADMIN), icon="🔒")
        return
    _show_message()
    _usage(admin)
    groups = Groups(admin.db)
    chosen = _users(admin, actor, groups, assistants)
    _limits(admin, actor, chosen, profiles)
    _access(groups, assistants)
    _audit(admin)


@st.cache_data(ttl=USAGE_SECONDS, show_spinner=False, max_entries=8)
def _daily_usage(_admin: Admin, days: int) -> list[DayUsage]:
    """All users' usage per day and assistant: reading a month of a large history takes
    about half a second (docs/benchmarks.md), so every admin's reruns share it for a minute."""
    return _admin.daily_usage(days=days)


def _usage(admin: Admin) -> None:
    st.header(_(USAGE_HEADER))
    left, right = st.columns(2)
    days = (
        left.segmented_control(
            _(DAYS_LABEL), [7, 30, 90], default=30, key="admin_days", format_func=format_number
        )
        or 30
    )
    measure = (
        right.segmented_control(
            _(MEASURE_LABEL),
            [MESSAGES, TOKENS],
            default=MESSAGES,
            key="admin_measure",
            format_func=_,
        )
        or MESSAGES
    )
    rows = _daily_usage(admin, days)
    a, b, c = st.columns(3)
    period = {"days": format_number(days)}
    a.metric(_(METRIC_USERS), format_number(admin.count_users()))
    b.metric(_(METRIC_MESSAGES) % period, format_number(sum(r.messages for r in rows)))
    c.metric(_(METRIC_TOKENS) % period, format_number(sum(r.tokens for r in rows)))
    if not rows:
        st.info(_(NO_USAGE) % period)
    else:
        day, assistant, shown = _(CHART_DAY), _(CHART_ASSISTANT), _(measure)
        frame = {
            day: [r.day.isoformat() for r in rows],
            assistant: [r.profile_id for r in rows],
            shown: [r.messages if measure == MESSAGES else r.tokens for r in rows],
        }
        st.bar_chart(frame, x=day, y=shown, color=assistant)
    st.caption(_(USAGE_AGE))
    st.download_button(
        _(CSV_BUTTON),
        data=lambda: _csv(admin.daily_usage(days=days, per_user=True)),
        file_name=f"usage-{days}-days.csv",
        mime="text/csv",
        icon=":material/download:",
        key="admin_csv",
        on_click="ignore",
    )


# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A CSV cell that no spreadsheet runs: text starting like a formula gets a leading
    single quote (a name such as `=HYPERLINK(...)` is the user's to choose)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv(rows: Sequence[DayUsage]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for r in rows:
        cells = [r.day.isoformat(), r.user_id, r.user, r.profile_id, r.messages, r.tokens]
        writer.writerow([_cell(c) for c in cells])
    return out.getvalue()


def _page_to(offset: int) -> None:
    st.session_state[_OFFSET_KEY] = max(0, offset)


def _users(
    admin: Admin, actor: str, groups: Groups, assistants: Sequence[Profile]
) -> UserUsage | None:
    """The users table; returns the user picked for managing (None: none)."""
    st.header(_(USERS_HEADER))
    query = st.text_input(
        _(SEARCH_LABEL),
        key="admin_search",
        help=_(SEARCH_HELP),
        max_chars=100,
        on_change=_page_to,
        args=(0,),
    )
    total = admin.count_users(query=query)
    offset = min(int(st.session_state.get(_OFFSET_KEY, 0)), max(0, total - 1))
    users = admin.users(query=query, limit=PAGE_SIZE, offset=offset) if total else []
    if not users:
        st.info(_(NO_USERS))
        return None
    shown = {"first": offset + 1, "last": offset + len(users), "total": total}
    st.caption(_(USERS_SHOWN) % {k: format_number(v) for k, v in shown.items()})
    st.dataframe(
        (
            {
                _(COL_USER): [u.label for u in users],
                _(COL_METHOD): [_method(u) for u in users],
                _(COL_EMAIL): [u.email for u in users],
                _(COL_LAST): [format_datetime(u.last_activity) for u in users],
                _(COL_CONVERSATIONS): [u.conversations for u in users],
                _(COL_MESSAGES): [u.messages for u in users],
                _(COL_TOKENS): [u.tokens for u in users],
                _(COL_DISABLED): [u.disabled for u in users],
            }
        ),
        hide_index=True,
        key="admin_users_table",
    )
    back, forward = st.columns(2)
    back.button(
        _(PREVIOUS),
        key="admin_prev",
        disabled=offset == 0,
        on_click=_page_to,
        args=(offset - PAGE_SIZE,),
    )
    forward.button(
        _(NEXT),
        key="admin_next",
        disabled=offset + PAGE_SIZE >= total,
        on_click=_page_to,
        args=(offset + PAGE_SIZE,),
    )
    by_id = {u.id: u for u in users}
    picked = st.selectbox(
        _(USER_LABEL),
        list(by_id),
        format_func=lambda uid: f"{by_id[uid].label} ({_method(by_id[uid])})",
        key="admin_user",
        placeholder=_("Choose a user"),
    )
    chosen = by_id.get(picked) if picked is not None else None
    if chosen is not None:
        _manage(admin, actor, chosen)
        if chosen.auth_provider != "anonymous":  # guests are in no group
            _groups(groups, actor, chosen, assistants)
    return chosen


def _method(user: UserUsage) -> str:
    return _(GUEST_METHOD) if user.auth_provider == "anonymous" else user.auth_provider


@_as_admin
def _set_disabled(admin: Admin, actor: str, user: UserUsage, disabled: bool) -> None:
    try:
        admin.set_disabled(actor=actor, user_id=user.id, disabled=disabled)
    except NotFound:
        _say("error", _(GONE))
        return
    done = DISABLED_TOAST if disabled else ENABLED_TOAST
    _say("success", _(done) % {"user": literal(user.label)})


def _manage(admin: Admin, actor: str, user: UserUsage) -> None:
    name = literal(user.label)
    if user.disabled:
        st.warning(_(USER_DISABLED) % {"user": name}, icon="🚫")
        st.button(
            _(ENABLE), key="admin_enable", on_click=_set_disabled, args=(admin, actor, user, False)
        )
    else:
        st.caption(_(USER_ACTIVE) % {"user": name})
        st.button(
            _(DISABLE),
            key="admin_disable",
            type="primary",
            on_click=_set_disabled,
            args=(admin, actor, user, True),
        )


@_as_admin
def _save_groups(groups: Groups, actor: str, user: UserUsage) -> None:
    picked = st.session_state.get(f"admin_groups_{user.id}") or []
    try:
        kept = groups.set_groups(actor=actor, user_id=user.id, groups=[str(g) for g in picked])
    except ValueError as exc:  # a bad name: one sentence naming it, nothing changed
        _say("error", str(exc))
        return
    except NotFound:
        _say("error", _(GONE))
        return
    shown = ", ".join(kept) or _(NO_GROUPS)
    _say("success", _(GROUPS_SAVED) % {"user": literal(user.label), "groups": literal(shown)})


def _groups(groups: Groups, actor: str, user: UserUsage, assistants: Sequence[Profile]) -> None:
    """The groups an admin gives the chosen user (those of a sign-in are shown, not kept)."""
    given = sorted(groups.groups_of(user_id=user.id))
    known = groups.known_groups() | {g for p in assistants for g in p.allowed_groups}
    with st.form(f"admin_groups_form_{user.id}"):
        st.multiselect(
            _(GROUPS_LABEL) % {"user": literal(user.label)},
            sorted(known | set(given)),
            default=given,
            key=f"admin_groups_{user.id}",
            help=_(GROUPS_HELP),
            placeholder=_(GROUPS_PLACEHOLDER),
            accept_new_options=True,
        )
        st.form_submit_button(_(SAVE_GROUPS), on_click=_save_groups, args=(groups, actor, user))
    signed = sorted(groups.groups_of(user_id=user.id, source=SSO))
    if signed:
        st.caption(_(SSO_GROUPS) % {"groups": literal(", ".join(signed))})


def _access(groups: Groups, assistants: Sequence[Profile]) -> None:
    """Per assistant: whom the configuration names, and the users that makes (as far as
    the app knows their groups)."""
    st.header(_(ACCESS_HEADER))
    st.caption(_(ACCESS_INTRO))
    if not assistants:
        return
    known = groups.known_groups() if any(p.allowed_groups for p in assistants) else frozenset()
    rows: list[tuple[str, str, str, str]] = []
    for profile in assistants:
        name = f"{profile.icon} {profile.title} ({profile.id})"
        if not profile.restricted:
            rows.append((name, _(EVERYONE_OPEN), "", ""))
            continue
        listed = []
        if profile.allowed_users:
            listed.append(_(LISTED_USERS) % {"names": ", ".join(profile.allowed_users)})
        if profile.allowed_groups:
            listed.append(_(LISTED_GROUPS) % {"names": ", ".join(profile.allowed_groups)})
        found = groups.members(names=profile.allowed_users, groups=profile.allowed_groups)
        users = ", ".join(m.label for m in found)
        if len(found) >= MAX_MEMBERS:
            users += f" {_(MORE_USERS)}"
        unknown = ", ".join(g for g in profile.allowed_groups if g not in known)
        rows.append((name, " · ".join(listed), users, unknown))
    st.dataframe(
        {
            _(COL_ASSISTANT): [r[0] for r in rows],
            _(COL_OPEN_TO): [r[1] for r in rows],
            _(COL_USERS_NOW): [r[2] for r in rows],
            _(COL_UNKNOWN_GROUPS): [r[3] for r in rows],
        },
        hide_index=True,
        key="admin_access_table",
    )


def _target_label(target: str, chosen: UserUsage | None) -> str:
    if target == EVERYONE:
        return _(TARGET_EVERYONE)
    if target == GUESTS:
        return _(TARGET_GUESTS)
    user = chosen.label if chosen else f"#{target.removeprefix('user:')}"
    return _(TARGET_USER) % {"user": user}


@_as_admin
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
        _say("error", _(GONE))
        return
    blank = (
        not str(state["admin_limit_messages"]).strip()
        and not str(state["admin_limit_tokens"]).strip()
    )
    _say("success", _(LIMIT_REMOVED if blank and saved is None else LIMIT_SAVED))


def _limits(admin: Admin, actor: str, chosen: UserUsage | None, profiles: Sequence[str]) -> None:
    st.header(_(LIMITS_HEADER))
    st.caption(_(LIMITS_INTRO))
    targets = [EVERYONE, GUESTS] + ([user_target(chosen.id)] if chosen else [])
    with st.form("admin_limit_form"):
        st.selectbox(
            _(TARGET_LABEL),
            targets,
            format_func=lambda t: _target_label(t, chosen),
            key="admin_limit_target",
            placeholder=_("Choose an option"),
        )
        st.selectbox(
            _(ASSISTANT_LABEL),
            ["", *profiles],
            format_func=lambda p: p or _(ALL_ASSISTANTS),
            key="admin_limit_profile",
            placeholder=_("Choose an option"),
        )
        left, right = st.columns(2)
        helps = _(AMOUNT_HELP)
        left.text_input(_(MESSAGES_LABEL), key="admin_limit_messages", help=helps, max_chars=20)
        right.text_input(_(TOKENS_LABEL), key="admin_limit_tokens", help=helps, max_chars=20)
        st.form_submit_button(_(SAVE_LIMIT), on_click=_save_limit, args=(admin, actor))
    limits = admin.limits()
    if not limits:
        st.caption(_(NO_LIMITS))
        return
    st.dataframe(
        (
            {
                _(COL_TARGET): [_limit_target(limit, chosen) for limit in limits],
                _(COL_ASSISTANT): [limit.profile_id or _(ALL_ASSISTANTS) for limit in limits],
                _(COL_MESSAGES_DAY): [_amount(limit.messages) for limit in limits],
                _(COL_TOKENS_DAY): [_amount(limit.tokens) for limit in limits],
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
    return "" if value is None else format_number(value)


def _audit(admin: Admin) -> None:
    st.header(_(AUDIT_HEADER))
    entries = admin.audit(limit=100)
    if not entries:
        st.caption(_(AUDIT_EMPTY))
        return
    st.dataframe(
        (
            {
                _(COL_AT): [format_datetime(e.at) for e in entries],
                _(COL_ACTOR): [e.actor for e in entries],
                _(COL_ACTION): [e.action for e in entries],
                _(COL_TARGET_AUDIT): [e.target for e in entries],
                _(COL_DETAIL): [e.detail for e in entries],
            }
        ),
        hide_index=True,
        key="admin_audit_table",
    )
