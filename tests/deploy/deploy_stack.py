"""The scaled-out deployment without Docker: app processes, nginx in front, for tests.

- `AppProcess`: the image's command (`assistants-ui run`), on 127.0.0.1 and a free
  port, with the given environment; `start()` returns once `/_stcore/health` says ok.
- `Nginx`: Debian's nginx running `deploy/nginx/assistants-ui.conf.template` (the file
  compose.scale.yaml mounts), rendered with envsubst's rules, inside a small main
  config of its own (temporary prefix, pid, logs; not a daemon). Its access log names
  the upstream that served each request, and the `X-Probe` header a test sent.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from browser_support import free_port  # re-exported for the deploy tests

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "assistants-ui.conf.template"
APP_CLI = Path(sys.executable).with_name("assistants-ui")
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
PLACEHOLDERS = ("NGINX_LISTEN", "NGINX_RESOLVER", "NGINX_UPSTREAM_SERVERS")

__all__ = ["AppProcess", "Nginx", "free_port", "render_template", "wait_until"]


def wait_until(what: str, ready: object, timeout: float = 60.0, every: float = 0.1) -> None:
    """Poll `ready()` until true; the deadline only bounds a failure."""
    deadline = time.monotonic() + timeout
    while not ready():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {timeout:.0f} s")
        time.sleep(every)


def render_template(text: str, values: dict[str, str]) -> str:
    """envsubst as the nginx image runs it: `${NAME}` of the given names, nothing else."""
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    return text


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return bool(r.status == 200)
    except (OSError, urllib.error.URLError):
        return False


@dataclass
class AppProcess:
    """One replica: `assistants-ui run` as the image runs it, but on 127.0.0.1."""

    workdir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"app-{self.port}.log"

    @property
    def command(self) -> list[str]:
        return [str(APP_CLI), "run", "--port", str(self.port), "--address", "127.0.0.1"]

    def launch(self) -> AppProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            self.command,
            cwd=self.workdir,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() takes Streamlit too
        )
        log.close()
        return self

    def wait_healthy(self, timeout: float = 90.0) -> AppProcess:
        def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"app exited:\n{self.log_path.read_text()[-3000:]}")
            return healthy(self.url)

        wait_until(f"app on port {self.port} healthy", ready, timeout)
        return self

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would: nothing gets to clean up."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):  # already gone, with its whole group
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


# Workers as the user that started nginx: the prefix (and the static cache under it)
# is in a test's private temporary directory, which nobody else may enter.
_MAIN_CONF = """\
user {user};
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 512; }}
http {{
    log_format probe '$request_method $uri $status upstream=$upstream_addr '
                     'lb=$cookie_assistants_ui_lb probe=$http_x_probe';
    access_log {prefix}/access.log probe;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    include {prefix}/assistants-ui.conf;
}}
"""


@dataclass
class Nginx:
    """Debian's nginx on 127.0.0.1 in front of `upstreams` (host:port), not daemonised."""

    prefix: Path
    upstreams: list[str]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def conf(self) -> Path:
        return self.prefix / "nginx.conf"

    def render(self) -> Path:
        """Write the site file from the template and the main config around it."""
        self.prefix.mkdir(parents=True, exist_ok=True)
        servers = " ".join(f"server {u} max_fails=1 fail_timeout=30s;" for u in self.upstreams)
        site = render_template(
            TEMPLATE.read_text(),
            {
                "NGINX_LISTEN": f"127.0.0.1:{self.port}",
                "NGINX_RESOLVER": "",
                "NGINX_UPSTREAM_SERVERS": servers,
            },
        )
        leftover = re.findall(r"\$\{[A-Za-z_]+\}", site)
        if leftover:
            raise ValueError(f"unrendered placeholders: {leftover}")
        (self.prefix / "assistants-ui.conf").write_text(site)
        tmp = self.prefix / "tmp"
        tmp.mkdir(exist_ok=True)
        tmp.chmod(0o777)  # as root, workers run as nobody and write request bodies here
        user = pwd.getpwuid(os.getuid()).pw_name
        self.conf.write_text(_MAIN_CONF.format(prefix=self.prefix, user=user))
        return self.conf

    def test_config(self) -> subprocess.CompletedProcess[str]:
        """`nginx -t` on the rendered configuration."""
        return subprocess.run(
            [NGINX, "-t", "-p", str(self.prefix), "-c", str(self.conf)],
            capture_output=True,
            text=True,
            check=False,
        )

    def start(self) -> Nginx:
        if not Path(NGINX).exists():
            raise RuntimeError(f"{NGINX} is missing: `scripts/ensure-system-deps nginx`")
        self.render()
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(self.prefix), "-c", str(self.conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=(self.prefix / "stderr.log").open("wb"),
        )

        def listening() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.errors()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                return False

        wait_until("nginx listening", listening, timeout=20)
        return self

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGQUIT)  # graceful: workers finish, master exits
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def errors(self) -> str:
        parts = [self.prefix / "error.log", self.prefix / "stderr.log"]
        return "".join(p.read_text(errors="replace") for p in parts if p.exists())

    def access_log(self) -> list[str]:
        path = self.prefix / "access.log"
        return path.read_text(errors="replace").splitlines() if path.exists() else []

    def served_by(self, probe: str, timeout: float = 10.0) -> str:
        """The upstream(s) of the request sent with `X-Probe: probe` (from the access log)."""
        found: list[str] = []

        def logged() -> bool:
            found[:] = [line for line in self.access_log() if line.endswith(f"probe={probe}")]
            return bool(found)

        wait_until(f"access log line for probe {probe}", logged, timeout, every=0.02)
        match = re.search(r"upstream=(.*?) lb=", found[-1])
        tried = match.group(1).split(", ") if match else [""]
        return tried[-1]  # after a failover: "dead:port, alive:port"

    def route(self, key: str, probe: str) -> str:
        """Which upstream a browser whose affinity cookie is `key` is sent to."""
        request = urllib.request.Request(
            f"{self.url}/_stcore/health",
            headers={"Cookie": f"assistants_ui_lb={key}", "X-Probe": probe},
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            r.read()
        return self.served_by(probe)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.prefix, ignore_errors=True)
