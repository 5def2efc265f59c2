"""The Docker image without Docker: build context, build commands, CMD and HEALTHCHECK.

No Docker engine runs here, so these tests read the Dockerfile and run what it
runs: the build script's CMake flags (checked against the Makefile's), the
.dockerignore rules (Docker's matching rules, re-implemented below), and the
image's CMD and HEALTHCHECK command lines against this checkout's virtualenv.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from deploy_stack import AppProcess, wait_until

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
IMAGE_BUILD = ROOT / "deploy" / "image-build"


# -- reading the Dockerfile ---------------------------------------------------------------


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def exec_form(args: str) -> list[str]:
    """A JSON-array CMD/HEALTHCHECK command (what Docker runs without a shell)."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, args in final_stage():
        if word == "ENV":
            for item in shlex.split(args):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def test_multi_stage_on_a_current_slim_base() -> None:
    steps = instructions()
    froms = [args for word, args in steps if word == "FROM"]
    assert len(froms) == 3, froms
    base = re.search(r"ARG PYTHON_IMAGE=(\S+)", DOCKERFILE.read_text())
    assert base and re.fullmatch(r"python:3\.1[1-3]-slim-(bookworm|trixie)", base.group(1))
    assert all(f.startswith("${PYTHON_IMAGE}") for f in froms)
    runs = " ".join(args for word, args in steps if word == "RUN")
    assert "deploy/image-build wheel /wheels" in runs
    assert "deploy/image-build venv /opt/venv /wheels /build" in runs
    final = final_stage()
    final_runs = " ".join(args for word, args in final if word == "RUN")
    assert "build-essential" not in final_runs  # compilers stay in the build stage
    assert "cmake" not in final_runs
    assert any(word == "COPY" and "--from=venv /opt/venv" in args for word, args in final)


def test_runs_as_an_unprivileged_user_with_data_as_a_volume() -> None:
    final = final_stage()
    users = [args for word, args in final if word == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0")
    assert ("VOLUME", '["/app/data"]') in final
    assert ("WORKDIR", "/app") in final


def test_nothing_secret_is_copied_into_the_image() -> None:
    copies = [args for word, args in instructions() if word == "COPY"]
    for args in copies:
        for secret in (".env", "secrets.toml", "data", "credentials.yaml", "assistants.toml"):
            assert not re.search(rf"(^|\s){re.escape(secret)}(\s|/|$)", args), args


def test_image_build_flags_are_the_makefiles_with_a_portable_cpu_baseline() -> None:
    makefile = (ROOT / "Makefile").read_text()
    block = re.search(r"LLAMA_CMAKE_ARGS \?=((?:.*\\\n)*.*)", makefile)
    assert block
    make_flags = set(block.group(1).replace("\\\n", " ").replace("$(CURDIR)", str(ROOT)).split())
    assert "-DGGML_NATIVE=ON" in make_flags

    def flags(**env: str) -> set[str]:
        done = subprocess.run(
            [str(IMAGE_BUILD), "cmake-args"],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **env},
        )
        return set(done.stdout.split())

    amd64 = flags(TARGETARCH="amd64")
    cpu = {f for f in amd64 if f.startswith("-DGGML_") and f != "-DGGML_CCACHE=OFF"}
    assert amd64 - cpu == make_flags - {"-DGGML_NATIVE=ON"}
    assert cpu == {
        "-DGGML_NATIVE=OFF", "-DGGML_SSE42=ON", "-DGGML_AVX=ON", "-DGGML_AVX2=ON",
        "-DGGML_BMI2=ON", "-DGGML_FMA=ON", "-DGGML_F16C=ON",
    }  # fmt: skip
    assert flags(TARGETARCH="arm64") - (make_flags - {"-DGGML_NATIVE=ON"}) == {"-DGGML_NATIVE=OFF"}
    custom = flags(TARGETARCH="amd64", LLAMA_CPU_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=OFF")
    assert {"-DGGML_AVX2=OFF", "-DGGML_NATIVE=OFF"} <= custom and "-DGGML_AVX2=ON" not in custom
    include = next(f for f in amd64 if f.startswith("-DCMAKE_PROJECT_llama.cpp_INCLUDE="))
    assert Path(include.split("=", 1)[1]) == ROOT / "scripts" / "llama-cpp-minimal.cmake"


# -- .dockerignore: Docker's rules --------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """moby/patternmatcher: `**` any directories, `*` and `?` within one path element."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(f"^{out}$")


def _rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclude = not line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        rules.append((exclude, _pattern_regex(pattern)))
    return rules


def excluded(path: str) -> bool:
    """Is `path` (relative to the build context) left out? The last matching rule wins;
    a rule matching a parent directory matches everything below it."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    verdict = False
    for exclude, regex in _rules():
        if any(regex.match(c) for c in candidates):
            verdict = exclude
    return verdict


def test_the_ignore_matcher_follows_dockers_rules() -> None:
    assert _pattern_regex("**/*.db").match("a.db") and _pattern_regex("**/*.db").match("x/y/a.db")
    assert not _pattern_regex("*.db").match("x/a.db")
    assert _pattern_regex("data").match("data")


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".env.production",
        "deploy/.env",
        ".streamlit/secrets.toml",
        "config/secrets.toml",
        "assistants.toml",
        "data/assistants-ui.db",
        "data/credentials.yaml",
        "backup.db",
        "data/assistants-ui.db-wal",
        "assistants-ui.dump",
        ".venv/bin/python",
        "src/assistants_ui/__pycache__/cli.cpython-311.pyc",
        ".pytest_cache/v/cache/lastfailed",
        ".mypy_cache/3.11/x.json",
        ".ruff_cache/CACHEDIR.TAG",
        ".git/HEAD",
        "tests/conftest.py",
        "server.key",
    ],
)
def test_secrets_state_and_caches_stay_out_of_the_build_context(path: str) -> None:
    assert excluded(path), f"{path} would be sent to the Docker build"


def test_everything_the_dockerfile_copies_is_in_the_build_context() -> None:
    sources: list[str] = []
    for word, args in instructions():
        if word == "COPY" and "--from=" not in args:
            sources += shlex.split(args)[:-1]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        files = [source] if (ROOT / source).is_file() else [
            str(p.relative_to(ROOT)) for p in (ROOT / source).rglob("*.py")
        ]  # fmt: skip
        for f in files:
            if "__pycache__" not in f:
                assert not excluded(f), f"{f} is copied by the Dockerfile but ignored"
    assert not excluded(".env.example")


# -- what the image runs ------------------------------------------------------------------


def test_the_images_cmd_serves_and_its_healthcheck_follows(tmp_path: Path) -> None:
    """CMD and HEALTHCHECK as the Dockerfile says, in a working directory laid out like /app."""
    final = final_stage()
    cmd = exec_form(next(args for word, args in final if word == "CMD"))
    health = next(args for word, args in final if word == "HEALTHCHECK")
    health_cmd = exec_form(health.split(" CMD ", 1)[1])
    assert cmd[:2] == ["assistants-ui", "run"]
    assert cmd[cmd.index("--port") + 1] == "8501" and cmd[cmd.index("--address") + 1] == "0.0.0.0"
    assert health_cmd == ["python", "-m", "assistants_ui.health"]
    assert "--start-period=" in health and "--timeout=5s" in health

    workdir = tmp_path / "app"
    (workdir / ".streamlit").mkdir(parents=True)
    shutil.copy(ROOT / ".streamlit" / "config.toml", workdir / ".streamlit" / "config.toml")
    env = {k: v for k, v in image_env().items() if k != "PATH"}
    assert env["STREAMLIT_SERVER_HEADLESS"] == "true"
    app = AppProcess(workdir, env)  # the same `assistants-ui run`, bound to 127.0.0.1 here
    expected = [a if a != "0.0.0.0" else "127.0.0.1" for a in cmd]
    expected[expected.index("--port") + 1] = str(app.port)
    assert [Path(app.command[0]).name, *app.command[1:]] == expected

    def healthcheck() -> int:
        done = subprocess.run(
            [sys.executable, *health_cmd[1:]],
            env={**os.environ, "PORT": str(app.port)},
            capture_output=True,
            timeout=30,
        )
        return done.returncode

    assert healthcheck() == 1  # nothing listening yet
    app.launch()
    try:
        app.wait_healthy()
        assert healthcheck() == 0
        # `docker stop`: SIGTERM to the command's own process only (it is PID 1), not to
        # a process group. The server must stop with it, leaving nothing behind.
        assert app.proc is not None
        app.proc.send_signal(signal.SIGTERM)
        assert app.proc.wait(30) is not None
        wait_until("the port closed", lambda: healthcheck() == 1, timeout=30)
    finally:
        app.kill()
    assert "Traceback" not in app.output()
