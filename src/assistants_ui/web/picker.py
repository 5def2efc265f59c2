"""Which assistants the person on the page may use, and the one selected.

Who may use what (`core.access`) is decided again on every full run (`allow`), from
the reader's names, their single sign-on groups and the groups an admin gave them;
the selected assistant is the sidebar picker's widget state.

Session-state keys: `PROFILE_KEY` (the picker's widget key), `_ACCESS_KEY`,
`_SSO_GROUPS_KEY`.
"""

from __future__ import annotations

import streamlit as st

from assistants_ui.core.access import GUEST, Access, usable
from assistants_ui.profiles import Profile
from assistants_ui.runtime import Runtime
from assistants_ui.storage import UNSAVED_USER, Repository, UserInfo
from assistants_ui.storage.groups import Groups

__all__ = [
    "PROFILE_KEY",
    "allow",
    "groups",
    "may_use",
    "select_profile",
    "selected_profile",
    "usable_profiles",
]

PROFILE_KEY = "assistant"  # the selected profile id (the sidebar picker's widget key)
_ACCESS_KEY = "access"  # who may use which assistant, as of this session's last full run
_SSO_GROUPS_KEY = "access_sso_groups"  # the groups claim last noted in storage (`allow`)


def allow(
    rt: Runtime, repo: Repository, user: UserInfo, names: frozenset[str], sso: frozenset[str] | None
) -> Access:
    """Who may use which assistant from this run on (`core.access`): the signed-in user's
    `names`, their ID token's groups (`sso`, single sign-on) and the groups an admin gave
    them. Asked again on every full run: a group taken away counts at the next click.
    Guests get `GUEST` (the assistants open to everyone)."""
    access = GUEST
    if user.auth_provider != "anonymous" and user.id != UNSAVED_USER:
        groups = Groups(repo.db)
        given: frozenset[str] = frozenset()
        if any(p.restricted for p in rt.profiles):  # else no query: nothing to decide
            given = groups.groups_of(user_id=user.id)
        if sso is not None and st.session_state.get(_SSO_GROUPS_KEY) != (user.id, sso):
            groups.note_sso_groups(user_id=user.id, groups=sso)  # `check` and the admin page
            st.session_state[_SSO_GROUPS_KEY] = (user.id, sso)
        access = Access(names=names, groups=given | (sso or frozenset()))
    st.session_state[_ACCESS_KEY] = access
    return access


def _access() -> Access:
    access = st.session_state.get(_ACCESS_KEY)
    return access if isinstance(access, Access) else GUEST  # not known yet: guests' share


def may_use(profile: Profile) -> bool:
    """Whether the person on the page may use `profile` (as of this session's last run)."""
    return _access().may_use(profile)


def groups() -> frozenset[str]:
    """The groups of the person on the page (as of this session's last full run): SSO
    groups and the groups an admin gave them; none for guests."""
    return _access().groups


def usable_profiles(rt: Runtime) -> list[Profile]:
    """The assistants the person on the page may use, in the configuration's order."""
    return usable(rt.profiles, _access())


def selected_profile(rt: Runtime) -> Profile | None:
    """The assistant picked in the sidebar (the first usable one until then); None when
    the person on the page may use none."""
    chosen = st.session_state.get(PROFILE_KEY)
    profile = rt.config.profile(chosen) if chosen else None
    if profile is None or not may_use(profile):
        profiles = usable_profiles(rt)
        if not profiles:
            return None
        profile = profiles[0]
        select_profile(profile.id)
    return profile


def select_profile(profile_id: str) -> None:
    """Make `profile_id` the selected assistant (an opened conversation's)."""
    st.session_state[PROFILE_KEY] = profile_id
