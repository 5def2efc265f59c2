"""Who may use which assistant: a profile's `allowed_users` and `allowed_groups`.

A profile with neither is open to everyone, guests included. A restricted one
is for the people it names and the members of the groups it names, and
nobody else sees it: not in the picker, not through a link to a conversation
or a share made with it. `Access` is what the page knows about the person
using it, rebuilt on every run (auth and the admin page can change it at any
time):

- `names`: their login name and e-mail address, lower-cased (a password
  user's own; a single sign-on user's address only when it counts: verified,
  as for `ADMIN_USERS`);
- `groups`: the groups claim of their ID token (single sign-on) and the
  groups an admin gave them on the admin page. Group names are compared
  exactly, as `[auth] allowed_groups` compares them.

A guest (no login) has neither, so every restricted assistant is hidden from
guests. Admins are not exempt: an admin who should use a restricted assistant
is named in it, or in one of its groups.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from assistants_ui.i18n import _, format_number
from assistants_ui.profiles import Profile

__all__ = [
    "GROUP_MAX",
    "GUEST",
    "MAX_GROUPS",
    "Access",
    "check_group_names",
    "usable",
]

GROUP_MAX = 255  # characters in a group's name (user_groups.name)
MAX_GROUPS = 50  # groups an admin may give one user


@dataclass(frozen=True, slots=True)
class Access:
    """The person using the page, as the assistants' allow-lists see them."""

    names: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    def may_use(self, profile: Profile) -> bool:
        """Whether this person may see and use `profile`."""
        if not profile.restricted:
            return True
        return bool(
            self.names.intersection(profile.allowed_users)
            or self.groups.intersection(profile.allowed_groups)
        )


GUEST = Access()  # nobody signed in: only the assistants open to everyone


def usable(profiles: Iterable[Profile], access: Access) -> list[Profile]:
    """The profiles `access` may use, in their order."""
    return [p for p in profiles if access.may_use(p)]


def check_group_names(raw: Sequence[str]) -> tuple[list[str], str | None]:
    """Group names as an admin typed them: stripped, each once, in order; or why not
    (one sentence naming the first bad one)."""
    names: list[str] = []
    for value in raw:
        name = value.strip()
        if not name:
            continue
        if len(name) > GROUP_MAX:
            return [], _("A group's name is at most %(max)s characters (%(name)s… is longer).") % {
                "max": format_number(GROUP_MAX),
                "name": name[:20],
            }
        if any(unicodedata.category(c).startswith("C") for c in name):
            return [], _("A group's name cannot hold control characters (%(name)r).") % {
                "name": name
            }
        if name not in names:
            names.append(name)
    if len(names) > MAX_GROUPS:
        return [], _("A user can be in at most %(max)s groups here (%(count)s given).") % {
            "max": format_number(MAX_GROUPS),
            "count": format_number(len(names)),
        }
    return names, None
