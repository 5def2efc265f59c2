"""Is the app up? `python -m assistants_ui.health [URL]`: the Docker image's HEALTHCHECK.

Asks Streamlit's health endpoint (`/_stcore/health`, which answers "ok" once the
server accepts sessions) and exits 0 when it does, 1 otherwise, printing one line
either way. Standard library only, so it starts fast and needs no curl in the image.

Default URL: http://127.0.0.1:$PORT/$STREAMLIT_SERVER_BASE_URL_PATH/_stcore/health
(PORT defaults to 8501, the image's port).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

__all__ = ["check", "default_url", "main"]

TIMEOUT_S = 4.0  # below the HEALTHCHECK's --timeout=5s


def default_url(env: Mapping[str, str] = os.environ) -> str:
    port = env.get("PORT") or "8501"
    base = env.get("STREAMLIT_SERVER_BASE_URL_PATH", "").strip("/")
    prefix = f"/{base}" if base else ""
    return f"http://127.0.0.1:{port}{prefix}/_stcore/health"


def check(url: str, *, timeout: float = TIMEOUT_S) -> tuple[bool, str]:
    """(healthy, what was seen)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read(64).decode("utf-8", "replace").strip()
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return False, f"{url}: HTTP {exc.code}"
    except (OSError, ValueError) as exc:  # refused, timed out, malformed URL
        reason = getattr(exc, "reason", exc)
        return False, f"{url}: {reason}"
    if status == 200 and body == "ok":
        return True, f"{url}: ok"
    return False, f"{url}: HTTP {status} {body!r}"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    url = args[0] if args else default_url()
    healthy, seen = check(url)
    print(seen, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    raise SystemExit(main())
