"""`assistants-ui check` prints what each connection's server supports, learned by
one small request per assistant through the app's own backends."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from interop.servers import CHAT_MODEL, OGX_MODEL, ROOT, Server

CLI = ROOT / ".venv" / "bin" / "assistants-ui"


def test_check_prints_what_each_connection_supports(
    ogx_server: Server, llama_server: Server, tmp_path: Path
) -> None:
    (tmp_path / "assistants.toml").write_text(
        f"""
[connections.ogx]
type = "openai"
base_url = "{ogx_server.url}"
max_retries = 0

[connections.llama]
type = "openai"
base_url = "{llama_server.url}"
max_retries = 0

[[assistants]]
id = "ogx"
title = "OGX"
backend = "responses"
connection = "ogx"
model = "{OGX_MODEL}"
tools = ["file_search"]
vector_store_ids = []

[[assistants]]
id = "llama"
title = "llama.cpp"
backend = "chat"
connection = "llama"
model = "{CHAT_MODEL}"
max_output_tokens = 4
"""
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AZURE_"))}
    env["DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [str(CLI), "check"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    rows = {
        line.split()[2]: line
        for line in done.stdout.splitlines()
        if line[6:].startswith("supports")
    }
    assert set(rows) == {"ogx", "llama"}, done.stdout + done.stderr
    assert "background: no, Stop only closes the stream" in rows["ogx"]
    assert "OGX does not yet support 'stream' and 'background' together." in rows["ogx"]
    assert "conversations: yes" in rows["ogx"] and "vector_stores: yes" in rows["ogx"]
    assert "stream_usage: no, token counts are not shown" in rows["llama"]
