"""The image, built from the Dockerfile as it is and run with Podman, checked as a user would.

Built once per session (conftest.py `app_image`), from a copy of the checkout with
secrets planted in it, FROM the local Debian base of scripts/ensure-container-engine.
Each test starts its own containers on 127.0.0.1 with a free port and removes them,
and their volumes, at the end.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from containers import (
    FIGURES,
    BuiltImage,
    Containers,
    StepFailed,
    free_port,
    layer_files,
    podman,
    secret_like,
)
from playwright.sync_api import Browser, Locator, Page, expect

from browser_support import page_text, send

pytestmark = [pytest.mark.browser, pytest.mark.local_model, pytest.mark.timeout(3600)]

WAIT_MS = 180_000  # the bundled model on a shared 2-core machine
QUESTION = "Say hello to the container in five words"


@pytest.fixture
def started() -> Iterator[Containers]:
    made = Containers()
    try:
        yield made
    finally:
        made.cleanup()


def start_app(
    made: Containers, image: str, volume: str, label: str, port: int | None = None
) -> tuple[str, str]:
    port = port or free_port()
    name = made.run(label, image, "--volume", f"{volume}:/app/data",
                    "--env", "LOCAL_MAX_TOKENS=24", port=port)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    made.wait_healthy(name, url)
    return name, url


def answers(page: Page) -> Locator:
    return page.get_by_role("group", name="Chat message from user").first.locator(
        "xpath=following::*[@aria-label='Chat message from assistant']"
    )


def chat(page: Page, url: str, question: str, made_logs: object) -> str:
    """Ask in the page; returns the conversation id once the answer is complete."""
    page.goto(url)
    # WAIT_MS, not send()'s 30 s: on a shared 2-core machine a new container's first page
    # took longer than that (a page whose scripts Chromium lost to ERR_NETWORK_CHANGED,
    # as Podman changes interfaces, is reloaded by browser_support).
    t0 = time.monotonic()
    try:
        expect(page.get_by_test_id("stChatInputTextArea")).to_be_visible(timeout=WAIT_MS)
    except AssertionError as exc:
        raise AssertionError(
            f"no chat input; the page shows:\n{page_text(page)}\n"
            f"{made_logs() if callable(made_logs) else made_logs}"
        ) from exc
    FIGURES.setdefault("first page of a new container (s)", f"{time.monotonic() - t0:.1f}")
    send(page, question)
    user = page.get_by_role("group", name="Chat message from user").filter(has_text=question)
    expect(user).to_have_count(1, timeout=WAIT_MS)
    answer = answers(page).last
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


def test_health_from_outside_and_the_images_own_healthcheck(
    app_image: BuiltImage, started: Containers
) -> None:
    name, _ = start_app(started, app_image.tag, started.volume("data"), "health")
    done = podman("healthcheck", "run", name, step="the image's HEALTHCHECK", check=False)
    assert done.returncode == 0, f"HEALTHCHECK failed: {done.stdout}{done.stderr}"
    config = podman("image", "inspect", "--format", "{{json .Config.Healthcheck}}",
                    app_image.tag, step="inspect").stdout  # fmt: skip
    assert "assistants_ui.health" in config


def test_the_server_runs_as_the_unprivileged_user(
    app_image: BuiltImage, started: Containers
) -> None:
    name, _ = start_app(started, app_image.tag, started.volume("data"), "user")
    status = podman("exec", name, "cat", "/proc/1/status", step="PID 1's status").stdout
    uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
    assert set(uids) == {"10001"}, f"PID 1 runs as {uids}"
    cmdline = podman("exec", name, "cat", "/proc/1/cmdline", step="PID 1").stdout
    assert "streamlit" in cmdline.replace("\0", " "), cmdline  # exec'd, not a wrapper shell
    owner = podman("exec", name, "stat", "-c", "%u", "/app/data", step="data owner").stdout
    assert owner.strip() == "10001"  # the named volume took the image's ownership


def test_a_chat_by_the_bundled_model_survives_a_sigterm_stop_and_a_new_container(
    app_image: BuiltImage, started: Containers, browser: Browser
) -> None:
    volume = started.volume("data")
    first, url = start_app(started, app_image.tag, volume, "first")
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        page = context.new_page()
        conversation = chat(page, url, QUESTION, started.logs)

        # `docker stop`: SIGTERM to PID 1, SIGKILL only after the 30 s grace period.
        t0 = time.monotonic()
        podman("stop", "--time=30", first, step="podman stop (SIGTERM)", timeout=60,
               logs=started.logs)  # fmt: skip
        seconds = time.monotonic() - t0
        FIGURES["podman stop (SIGTERM) to exit (s)"] = f"{seconds:.1f}"
        state = podman("inspect", "--format", "{{.State.ExitCode}} {{.State.OOMKilled}}",
                       first, step="exit code").stdout.split()  # fmt: skip
        assert state[0] in ("0", "143"), (
            f"exit code {state[0]} after {seconds:.1f} s: killed after the grace period, "
            f"SIGTERM was not handled\n{started.logs()}"
        )

        # A new container on the same volume and host port (`docker run` again): the
        # history is there for the same browser.
        port = int(url.rsplit(":", 1)[1])
        _, url2 = start_app(started, app_image.tag, volume, "second", port=port)
        page.goto(url2)
        # Listed under the title the bundled model wrote for it (the shutdown let it
        # finish), whatever those words are: one entry, with its menu.
        menus = page.get_by_test_id("stSidebar").get_by_role("button", name="more_horiz icon")
        expect(menus).to_have_count(1, timeout=WAIT_MS)
        page.goto(f"{url2}/?c={conversation}")
        user = page.get_by_role("group", name="Chat message from user").filter(has_text=QUESTION)
        expect(user).to_have_count(1, timeout=WAIT_MS)
        expect(answers(page).last).not_to_be_empty(timeout=WAIT_MS)
    finally:
        context.close()


def test_no_secret_or_database_in_any_layer(app_image: BuiltImage, tmp_path: Path) -> None:
    planted = [p for p in (".env", ".streamlit/secrets.toml", "data/assistants-ui.db")
               if (app_image.context / p).exists()]  # fmt: skip
    assert len(planted) == 3, "the build context should have had secrets planted in it"
    layers = layer_files(app_image.tag, tmp_path)
    assert layers, "podman save gave no layers"
    found = {layer: [p for p in paths if secret_like(p)] for layer, paths in layers.items()}
    leaks = {layer: paths for layer, paths in found.items() if paths}
    assert not leaks, f"secret-like files in the image's layers: {leaks}"
    everything = {p.lstrip("./") for paths in layers.values() for p in paths}
    assert "app/.streamlit/config.toml" in everything  # the search did read the app's layer
    FIGURES["image layers"] = str(len(layers))


def test_a_container_that_dies_is_reported_with_its_log_and_removed(
    app_image: BuiltImage,
) -> None:
    made = Containers()
    port = free_port()
    try:
        name = made.run("dies", app_image.tag, "--entrypoint", "sh", port=port,
                        command=("-c", "echo no model here >&2; exit 3"))  # fmt: skip
        with pytest.raises(StepFailed) as failed:
            made.wait_healthy(name, f"http://127.0.0.1:{port}")
        assert failed.value.step == f"{name} healthy"
        assert "(exit code 3)" in str(failed.value)
        assert "no model here" in str(failed.value)  # the container's own log
        mounts = podman("inspect", "--format", "{{range .Mounts}}{{.Name}} {{end}}", name,
                        step="its volumes").stdout.split()  # fmt: skip
        assert mounts, "the image's VOLUME gave the container no volume"
    finally:
        made.cleanup()
    gone = podman("container", "exists", name, step="exists", check=False)
    assert gone.returncode == 1, f"{name} was left behind"
    for volume in mounts:
        left = podman("volume", "exists", volume, step="volume exists", check=False)
        assert left.returncode == 1, f"its anonymous volume {volume} was left behind"


def test_a_port_already_taken_is_named_and_nothing_is_left(app_image: BuiltImage) -> None:
    made = Containers()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        try:
            with pytest.raises(StepFailed) as failed:
                made.run("port", app_image.tag, port=port)
        finally:
            made.cleanup()
    assert failed.value.step.startswith("start container")
    assert "address already in use" in str(failed.value)
    assert podman("container", "exists", made.names[0], step="exists", check=False).returncode == 1
