"""Assistants by group, in the page (AppTest): `allowed_users` / `allowed_groups`.

A restricted assistant is in the picker only for the people and groups it
names (groups given on the admin page here; single sign-on's come from the
ID token, tests/core/test_access.py); everyone else never sees it, guests
included. A conversation made with it opens read-only for its owner once the
assistant is taken away from them, a share of one opens only for those who
may use it, and the admin page shows who can use what and gives groups.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_personal_page import open_page

from assistants_ui.auth import passwords
from assistants_ui.storage import Repository
from assistants_ui.storage.admin import Admin
from assistants_ui.storage.groups import Groups
from assistants_ui.storage.prompts import EVERYONE, group_audience
from assistants_ui.web.app import NO_ASSISTANT, NOT_ALLOWED
from assistants_ui.web.share_view import NOT_FOR_YOU
from fakes.server import FakeOpenAI
from login_support import ORIGINAL_SECRETS, write_secrets

APP = str(Path(__file__).parents[2] / "streamlit_app.py")

ASSISTANTS = """
[connections.fake]
type = "openai"
base_url = "{base_url}"

[[assistants]]
id = "open"
title = "Open helper"
backend = "chat"
connection = "fake"
model = "m"

[[assistants]]
id = "second"
title = "Second helper"
backend = "chat"
connection = "fake"
model = "m"

[[assistants]]
id = "owls"
title = "Owl expert"
icon = "🦉"
backend = "chat"
connection = "fake"
model = "m"
allowed_groups = ["owls"]

[[assistants]]
id = "desk"
title = "Ann's desk"
backend = "chat"
connection = "fake"
model = "m"
allowed_users = ["Ann@Example.com"]
"""

SECRETS = ORIGINAL_SECRETS.replace(
    "usernames = {",
    'usernames = { ann = { name = "Ann", password = "ann-password", email = "ann@example.com" }, ',
)


@pytest.fixture(autouse=True)
def configured(monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI) -> None:
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)
    Path("assistants.toml").write_text(ASSISTANTS.format(base_url=fake.base_url))


@pytest.fixture
def logins(monkeypatch: pytest.MonkeyPatch) -> None:
    write_secrets(SECRETS)
    monkeypatch.setenv("AUTHENTICATION_REQUIRED", "true")


def app(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def signed_in(name: str, password: str, **query: str) -> AppTest:
    at = app(**query)
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    at = at.button[0].click().run()
    assert not at.exception and [b.label for b in at.button][:1] != ["Log in"]
    return at


def picker(at: AppTest) -> list[str]:
    return list(at.sidebar.selectbox(key="assistant").options)


def shown(at: AppTest) -> str:
    """Everything the page says, in one string."""
    parts = [m.value for m in at.markdown] + [t.value for t in at.text]
    parts += [e.value for e in (*at.title, *at.caption, *at.info, *at.warning, *at.error)]
    parts += [b.label for b in at.button]
    return "\n".join(str(p) for p in parts)


def give(repo: Repository, login: str, *groups: str) -> None:
    user = repo.ensure_user(auth_provider="password", subject=login)
    Groups(repo.db).set_groups(actor="test admin", user_id=user.id, groups=list(groups))


def test_a_restricted_assistant_is_only_in_the_picker_of_those_it_names(
    logins: None, repo: Repository
) -> None:
    jsmith = signed_in("jsmith", "abc-password")
    assert picker(jsmith) == ["🤖 Open helper", "🤖 Second helper"]
    assert "Owl expert" not in shown(jsmith) and "Ann's desk" not in shown(jsmith)
    # ann is named by her e-mail address (compared lower-cased).
    assert picker(signed_in("ann", "ann-password")) == [
        "🤖 Open helper",
        "🤖 Second helper",
        "🤖 Ann's desk",
    ]
    # jsmith in the group (given on the admin page): at his next click.
    give(repo, "jsmith", "owls")
    jsmith.run()
    assert picker(jsmith) == ["🤖 Open helper", "🤖 Second helper", "🦉 Owl expert"]
    jsmith.sidebar.selectbox(key="assistant").set_value("owls").run()
    assert jsmith.title[0].value.endswith("Owl expert")


def test_guests_never_see_a_restricted_assistant() -> None:
    at = app()
    assert picker(at) == ["🤖 Open helper", "🤖 Second helper"]
    assert "Owl expert" not in shown(at) and "Ann's desk" not in shown(at)


def test_with_nothing_open_to_a_guest_the_page_says_so_in_one_sentence(
    fake: FakeOpenAI,
) -> None:
    restricted = ASSISTANTS.replace('id = "open"', 'id = "open"\nallowed_groups = ["staff"]')
    restricted = restricted.replace('id = "second"', 'id = "second"\nallowed_users = ["ann"]')
    Path("assistants.toml").write_text(restricted.format(base_url=fake.base_url))
    at = app()
    assert not at.exception
    assert [i.value for i in at.info] == [NO_ASSISTANT]
    assert not at.chat_input
    assert [box.key for box in at.sidebar.selectbox] == ["language_select"]  # no picker
    assert "helper" not in shown(at) and "Owl" not in shown(at)


def test_a_conversation_whose_assistant_was_taken_away_opens_read_only(
    logins: None, repo: Repository, fake: FakeOpenAI
) -> None:
    give(repo, "jsmith", "owls")
    at = signed_in("jsmith", "abc-password")
    assert not at.error
    at.sidebar.selectbox(key="assistant").set_value("owls").run()
    at.chat_input[0].set_value("How do owls sleep?").run()
    assert "Fake answer to: How do owls sleep?" in shown(at)
    cid = at.query_params["c"]

    give(repo, "jsmith")  # the admin takes the group away
    at.run()  # his next click
    assert not at.exception
    [warning] = at.warning
    assert warning.value == NOT_ALLOWED % {"assistant": "'owls'"}
    assert not at.chat_input  # nothing can be sent to it any more
    assert "How do owls sleep?" in shown(at)  # his own messages stay his to read
    assert picker(at) == ["🤖 Open helper", "🤖 Second helper"]

    # Its link, in a new session: the same, read-only.
    link = signed_in("jsmith", "abc-password", c=cid)
    assert [w.value for w in link.warning] == [NOT_ALLOWED % {"assistant": "'owls'"}]
    assert not link.chat_input
    assert len(fake.calls("chat.completions")) == 1


def test_a_share_of_a_restricted_conversation_opens_only_for_those_who_may_use_it(
    logins: None, repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    give(repo, "jsmith", "owls")
    owner = signed_in("jsmith", "abc-password")
    owner.sidebar.selectbox(key="assistant").set_value("owls").run()
    owner.chat_input[0].set_value("Owl facts").run()
    owner.button(key="share").click().run()
    [link] = [c.value for c in owner.main.code if "?share=" in c.value]
    token = link.rsplit("?share=", 1)[1]

    ann = signed_in("ann", "ann-password", share=token)
    assert [e.value for e in ann.error] == [NOT_FOR_YOU]
    assert "Owl facts" not in shown(ann)

    give(repo, "ann", "owls")
    allowed = signed_in("ann", "ann-password", share=token)
    assert "Owl facts" in shown(allowed) and not allowed.error

    # SHARE_LINKS_PUBLIC opens links without a sign-in, but not this one: the login first.
    monkeypatch.setenv("SHARE_LINKS_PUBLIC", "true")
    anyone = app(share=token)
    assert "Owl facts" not in shown(anyone)
    assert [b.label for b in anyone.button] == ["Log in"]


def access_table(at: AppTest) -> dict[str, list[str]]:
    """The admin page's "who can use which assistant": assistant -> the other columns."""
    [table] = [d.value for d in at.dataframe if "Open to" in d.value.columns]
    return {row[0]: list(row[1:]) for row in table.itertuples(index=False)}


def _admin_page() -> None:
    """The admin page alone (AppTest runs this function's source as a script)."""
    from assistants_ui.runtime import Runtime
    from assistants_ui.storage import open_database
    from assistants_ui.storage.admin import Admin
    from assistants_ui.web.admin_view import render_admin

    config = Runtime.load().config
    db = open_database(config.settings)
    try:
        render_admin(
            Admin(db),
            actor="Admin (password:root)",
            allowed=lambda: True,
            profiles=[p.id for p in config.profiles],
            assistants=config.profiles,
        )
    finally:
        db.dispose()


def test_the_admin_page_shows_who_can_use_what_and_gives_groups(repo: Repository) -> None:
    bob = repo.ensure_user(auth_provider="password", subject="bob", display_name="Bob")
    repo.ensure_user(auth_provider="password", subject="ann", email="ann@example.com")
    sso = repo.ensure_user(auth_provider="oidc", subject="iss|1", display_name="Sso Sam")
    Groups(repo.db).note_sso_groups(user_id=sso.id, groups=["owls"])
    at = AppTest.from_function(_admin_page, default_timeout=30).run()
    assert not at.exception
    rows = access_table(at)
    assert rows["🤖 Open helper (open)"] == ["everyone, guests included", "", ""]
    assert rows["🦉 Owl expert (owls)"] == ["groups: owls", "Sso Sam", ""]
    assert rows["🤖 Ann's desk (desk)"] == ["users: ann@example.com", "ann@example.com", ""]

    at.selectbox(key="admin_user").set_value(bob.id).run()
    at.multiselect(key=f"admin_groups_{bob.id}").set_value(["owls", "night shift"])
    at.button(key=f"FormSubmitter:admin_groups_form_{bob.id}-Save groups").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Groups of Bob saved: night shift, owls."]
    assert Groups(repo.db).groups_of(user_id=bob.id) == {"owls", "night shift"}
    rows = access_table(at)
    assert rows["🦉 Owl expert (owls)"][1] == "Bob, Sso Sam"
    [entry, *_] = Admin(repo.db).audit()
    assert (entry.actor, entry.action, entry.target, entry.detail) == (
        "Admin (password:root)",
        "set_groups",
        "Bob (password:bob)",
        "added owls, night shift",
    )

    # A name too long for a group: one sentence naming it, nothing changed.
    at.multiselect(key=f"admin_groups_{bob.id}").set_value(["owls", "x" * 300])
    at.button(key=f"FormSubmitter:admin_groups_form_{bob.id}-Save groups").click().run()
    [error] = at.error
    assert error.value.startswith(
        "A group's name is at most 255 characters (xxxxxxxxxxxxxxxxxxxx… "
    )
    assert Groups(repo.db).groups_of(user_id=bob.id) == {"owls", "night shift"}


def test_a_prompt_published_to_a_group_is_for_its_members(logins: None, repo: Repository) -> None:
    """An admin publishes to everyone or to one group (item 4): the prompt picker of a
    member lists it, anyone else's does not."""
    give(repo, "jsmith", "owls")
    repo.save_prompt(
        user_id=None,
        name="owl-facts",
        body="Tell me about {{owl}}.",
        audience=group_audience("Owls"),  # names are compared as the audience keeps them
        created_by="test admin",
    )
    repo.save_prompt(user_id=None, name="hello", body="Hello.", audience=EVERYONE)

    def offered(at: AppTest) -> list[str]:
        at = at.chat_input[0].set_value("/").run()  # "/" alone opens the picker
        assert not at.exception
        return [b.label for b in at.button if b.label.startswith("/")]

    assert offered(signed_in("jsmith", "abc-password")) == ["/hello", "/owl-facts"]
    assert offered(signed_in("ann", "ann-password")) == ["/hello"]


def test_an_admin_publishes_a_prompt_to_a_group_or_is_told_why_not(
    logins: None, repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADMIN_USERS", "ann")
    at = open_page(signed_in("ann", "ann-password"), "settings")

    def publish(group: str) -> AppTest:
        at.text_input(key="prompt-publish-name").input("owl-facts")
        at.text_area(key="prompt-publish-body").input("Tell me about {{owl}}.")
        at.text_input(key="prompt-publish-group").input(group)
        return at.button(key="prompt-publish-save").click().run()

    publish("owls\x07")
    assert [e.value for e in at.error] == [
        "Not saved: A group's name cannot hold control characters ('owls\\x07')."
    ]
    assert repo.published_prompts() == []
    publish(" Owls ")
    assert not at.error
    [prompt] = repo.published_prompts()
    assert (prompt.name, prompt.audience) == ("owl-facts", "group:owls")
