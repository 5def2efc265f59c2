"""Who may use which assistant (core/access.py) and the profile keys that say it."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistants_ui.auth.oidc import AllowList
from assistants_ui.core.access import GUEST, Access, check_group_names, usable
from assistants_ui.profiles import Config, Profile, load_config
from assistants_ui.settings import load_settings


def profile(**allowed: object) -> Profile:
    return Profile.model_validate({"id": "p", "title": "P", "backend": "chat", **allowed})


def config(tmp_path: Path, text: str) -> Config:
    (tmp_path / "assistants.toml").write_text(text)
    settings, problems = load_settings()
    return load_config(settings, problems)


def test_an_unrestricted_assistant_is_open_to_everyone_guests_included() -> None:
    assert not profile().restricted
    assert GUEST.may_use(profile())


def test_a_restricted_one_is_for_the_names_and_groups_it_lists() -> None:
    owls = profile(allowed_groups=["owls"], allowed_users=["  JSmith ", "ann@example.com"])
    assert owls.restricted and owls.allowed_users == ("jsmith", "ann@example.com")
    assert not GUEST.may_use(owls)
    assert Access(names=frozenset({"jsmith"})).may_use(owls)
    assert Access(names=frozenset({"bob", "ann@example.com"})).may_use(owls)
    assert Access(groups=frozenset({"owls"})).may_use(owls)
    assert not Access(names=frozenset({"bob"}), groups=frozenset({"Owls"})).may_use(owls)
    assert usable([profile(), owls], GUEST) == [profile()]


def test_single_sign_on_groups_come_from_the_configured_claim() -> None:
    """What the page builds for a single sign-on user: the claim `[auth] groups_claim`
    names (a string or a list), nothing from a malformed one."""
    owls = profile(allowed_groups=["/staff/owls"])
    allow = AllowList(groups_claim="roles")
    for claims, expected in [
        ({"roles": ["/staff/owls", "x"]}, True),
        ({"roles": "/staff/owls"}, True),
        ({"groups": ["/staff/owls"]}, False),  # another claim than the configured one
        ({"roles": {"/staff/owls": 1}}, False),
    ]:
        assert Access(groups=allow.groups_of(claims)).may_use(owls) is expected, claims


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ('allowed_groups = "owls"', "allowed_groups: Input should be a valid tuple"),
        ('allowed_groups = [""]', "allowed_groups.0: String should have at least 1 character"),
        ("allowed_users = [3]", "allowed_users.0: Input should be a valid string"),
    ],
)
def test_a_malformed_allow_list_is_one_problem_and_hides_nothing_else(
    tmp_path: Path, toml: str, problem: str
) -> None:
    cfg = config(
        tmp_path,
        f"""
[[assistants]]
id = "owls"
backend = "chat"
{toml}

[[assistants]]
id = "open"
backend = "chat"
""",
    )
    assert [p.id for p in cfg.profiles] == ["open"]  # the broken one is left out, not open
    [found] = cfg.problems
    assert found.setting.endswith("assistants[0] ('owls')")
    assert found.message == problem


def test_group_names_an_admin_types() -> None:
    assert check_group_names([" owls ", "", "owls", "night shift"]) == (
        ["owls", "night shift"],
        None,
    )
    assert check_group_names(["x" * 256])[1] == (
        "A group's name is at most 255 characters (xxxxxxxxxxxxxxxxxxxx… is longer)."
    )
    assert check_group_names(["a\x00b"])[1] == (
        "A group's name cannot hold control characters ('a\\x00b')."
    )
    assert check_group_names([f"g{i}" for i in range(51)])[1] == (
        "A user can be in at most 50 groups here (51 given)."
    )
