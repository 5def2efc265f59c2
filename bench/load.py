"""Benchmark: N people chatting at the same instant, without a browser.

    .venv/bin/python -m bench.load                    (or `make bench`)
    .venv/bin/python -m bench.load --users 1,10 --apps ours
    .venv/bin/python -m bench.load --users 100 --apps ours --profile    (py-spy)
    .venv/bin/python -m bench.load --users 50 --apps ours --profile --profile-seconds 1.5

Each simulated person is one Streamlit session driven through Streamlit's own
websocket protocol (`tests/streamlit_client.py`: the protobuf `BackMsg` /
`ForwardMsg` a browser exchanges): it opens the page, waits for the page's
first run, and once every session is in, all send a message through the chat
input's widget state at the same instant and read the answer's deltas.
Answers come from the fake OpenAI server (in its own process) at a fixed token
rate, so the server's own times are known: its first token after one delay,
its last after one delay per chunk.

Three apps, each in a fresh process per level, in the same run:

* ours     - the app as `make run` starts it (`assistants-ui run`)
* tutorial - Streamlit's tutorial chat (`bench/pages/tutorial_chat.py`:
  `st.write_stream` over the SDK)
* chainlit - Chainlit's streaming example (`bench/pages/chainlit_chat.py`:
  `msg.stream_token` over the SDK), `chainlit run` from a venv of its own
  (`scripts/ensure-bench-peers`); each person is a Socket.IO client doing what
  Chainlit's page does (`bench/chainlit_client.py`), the first text and the end
  taken when its events bring them, as for the Streamlit pages

Per level: time to the first visible answer text and to the answer's end
(p50 / p95, over the server's own time to the first token / to the last),
answers not complete or with an error, the app's CPU seconds per answer and
per page run (/proc: the server process and its children), and its RSS per
session, idle (after the page's run) and after the answer. `--profile` records
the largest level of each app with py-spy while the answers stream and prints
where its CPU went.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from assistants_ui.cli import SERVER_OPTIONS  # noqa: E402
from bench.chainlit_client import ChainlitSession  # noqa: E402
from bench.stream_render import VOCAB  # noqa: E402  (one word list for both benches)
from browser_support import app_command, free_port, serving  # noqa: E402
from streamlit_client import PageSession, Run  # noqa: E402

FIRST, END = "Zephyrstart", "THEEND"
PAGES = {
    "ours": None,
    "tutorial": ROOT / "bench" / "pages" / "tutorial_chat.py",
    "chainlit": ROOT / "bench" / "pages" / "chainlit_chat.py",
}
# Chromium page loads: the Streamlit pages only. Chainlit's page asks public CDNs for
# its fonts and KaTeX's CSS, which this bench does not reach out to.
BROWSER_APPS = ("ours", "tutorial")
Session = PageSession | ChainlitSession


def reply_words(words: int) -> list[str]:
    """The answer, word by word (one chunk each): paragraphs of 60 words."""
    out = [FIRST + " "]
    for i in range(1, words - 1):
        out.append(VOCAB[(i * 7) % len(VOCAB)] + ("\n\n" if i % 60 == 0 else " "))
    out.append(END)
    return out


# -- the fake server, in its own process so that its timing is not ours ----------------


def _serve_fake(conn: Connection, words: int, delay: float) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from fakes.chat_routes import chat_chunks, chat_title
    from fakes.server import SSE, FakeOpenAI, Json, Recorded, Stream

    # Validated against the OpenAPI schema once here, not on every one of ~40,000 sends.
    checked = FakeOpenAI()
    events = chat_chunks(reply_words(words))
    for sse in events:
        if sse.schema:
            checked.check(sse.schema, sse.data)
    if checked.violations:
        raise RuntimeError(checked.violations[0])
    plain = [SSE(sse.data, None, sse.event) for sse in events]
    # The usage chunk (no choices) only for a request that asks for it, as OpenAI does:
    # Chainlit's example reads `choices[0]` of every chunk. The words keep their times.
    unasked = [sse for sse in plain if not isinstance(sse.data, dict) or sse.data.get("choices")]

    def reply(request: Recorded) -> Stream | Json:
        body = request.body if isinstance(request.body, dict) else {}
        if not body.get("stream"):  # our title after a first answer: a few words, at once
            return chat_title("A short title")
        usage = (body.get("stream_options") or {}).get("include_usage")
        return Stream(plain if usage else unasked, delay=delay)

    with FakeOpenAI() as fake:
        fake.set_default("chat.completions", reply)
        conn.send((fake.base_url, len(plain)))
        conn.recv()  # until told to stop


@contextmanager
def fake_server(words: int, delay: float) -> Iterator[tuple[str, int]]:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve_fake, args=(child, words, delay), daemon=True)
    proc.start()
    try:
        if not parent.poll(60):
            raise RuntimeError("the fake server did not start")
        yield parent.recv()
    finally:
        parent.send("stop")
        proc.join(10)
        if proc.is_alive():
            proc.kill()


# -- the app's process ------------------------------------------------------------------


def family(pids: list[int]) -> list[int]:
    """The processes and their living descendants."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, todo = [], list(pids)
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += [child for child, parent in parents.items() if parent == pid]
    return out


def cpu_seconds(pids: list[int]) -> float:
    """CPU of the processes and their descendants, living or ended (an ended child's CPU
    is in its parent's cutime / cstime once waited for)."""
    ticks = 0
    for pid in family(pids):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # a child ended meanwhile
            continue
        ticks += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pids: list[int]) -> float:
    kb = 0
    for pid in family(pids):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                kb += int(line.split()[1])
    return kb / 1024


def threads(pids: list[int]) -> int:
    return sum(len(os.listdir(f"/proc/{pid}/task")) for pid in family(pids))


@functools.cache
def chainlit_venv() -> Path:
    """Chainlit's own venv (installed once per machine), on the app's Python version."""
    done = subprocess.run(
        [str(ROOT / "scripts" / "ensure-bench-peers")],
        env={**os.environ, "PYTHON": os.environ.get("PYTHON", sys._base_executable)},
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return Path(done.stdout.strip().splitlines()[-1])


def command(app: str, port: int, options: list[str]) -> list[str]:
    page = PAGES[app]
    if page is None:
        return [*app_command(port), "--", *options] if options else app_command(port)
    if app == "chainlit":
        bin_dir = chainlit_venv() / "bin"
        return [
            str(bin_dir / "chainlit"),
            "run",
            str(page),
            "--headless",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(page),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        *SERVER_OPTIONS,  # the same server as ours: the difference is the page
    ]


# -- one level ------------------------------------------------------------------------


@dataclass
class Answer:
    first: float | None = None  # seconds from send to the first visible answer text
    end: float | None = None  # ... to the answer's last word on the page
    error: str = ""


@dataclass
class Row:
    app: str
    users: int
    first_p50: float
    first_p95: float
    end_p50: float
    end_p95: float
    errors: int
    cpu_per_answer: float
    cpu_per_page: float
    page_p95: float
    rss_idle_mb: float
    rss_answered_mb: float
    threads_after: int
    threads_before: int
    app_busy: float  # the app's CPU share while the answers streamed (1 = a core)
    client_busy: float  # this process's CPU share while the answers streamed (1 = a core)
    first_error: str = ""
    large: str = ""  # --unfriendly: what the long messages and the large file got


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def ask(
    page: Session, prompt: str, timeout: float, upload: tuple[str, bytes, str] | None = None
) -> Answer:
    """Send `prompt` (with `upload`, a file put first: name, bytes, type) and read the
    answer."""
    files = []
    if upload is not None and isinstance(page, PageSession):
        try:
            files = [await asyncio.to_thread(page.upload, *upload)]
        except OSError as exc:
            return Answer(error=f"the upload failed: {exc}")
    answer = Answer()
    sent = time.monotonic()

    def seen(run: Run) -> None:
        text = run.changed
        if answer.first is None and FIRST in text:
            answer.first = time.monotonic() - sent
        if answer.end is None and END in text:
            answer.end = time.monotonic() - sent

    try:
        if files:
            assert isinstance(page, PageSession)
            run = await page.chat(prompt, files=files, on_text=seen, timeout=timeout)
        else:
            run = await page.chat(prompt, on_text=seen, timeout=timeout)
    except (TimeoutError, OSError, Exception) as exc:
        answer.error = f"{type(exc).__name__}: {exc}"
        return answer
    if run.errors:
        answer.error = run.errors[0]
    elif run.status != "FINISHED_SUCCESSFULLY":
        answer.error = f"the run ended {run.status}"
    elif answer.end is None:
        answer.error = "the answer's end never showed"
    return answer


async def open_page(app: str, url: str, timeout: float, person: int) -> tuple[Session, float]:
    t0 = time.monotonic()
    # Each person from an address of their own (127.0.0.2, .3, ...), as people are:
    # nginx limits new sessions per address.
    address = f"127.0.{2 + person // 250}.{2 + person % 250}"
    page: Session
    if app == "chainlit":
        page = await ChainlitSession.open(url, timeout=timeout, local_address=address)
    else:
        page = await PageSession.open(url, timeout=timeout, local_address=address)
    try:
        await page.run(timeout=timeout)
        if isinstance(page, PageSession) and page.chat_input_id is None:
            raise RuntimeError("the page has no chat input")
    except BaseException:
        page.abort()
        raise
    return page, time.monotonic() - t0


async def level(
    app: str,
    url: str,
    replicas: list[tuple[str, int]],
    users: int,
    server: tuple[float, float],
    timeout: float,
    profile: Path | None = None,
    profile_seconds: float | None = None,
    unfriendly: bool = False,
) -> Row:
    """`users` people on the page at `url`, served by `replicas` (URL, pid). `unfriendly`:
    a fifth of them send a message of 100,000 characters and one a 20 MB file (ours);
    the figures are the others'."""
    pids = [pid for _, pid in replicas]
    # Warm up: one session per process asks once, so that first imports are not counted.
    for direct, _ in replicas:
        page, _ = await open_page(app, direct, timeout, 0)
        warm = await ask(page, "warm up", timeout)
        if warm.error:
            raise RuntimeError(f"{app}: the warm-up answer failed: {warm.error}")
        await page.close()
    await asyncio.sleep(1)
    rss0, threads0, cpu0 = rss_mb(pids), threads(pids), cpu_seconds(pids)
    # A burst of new sessions: every page opens at once.
    tries = await asyncio.gather(
        *(open_page(app, url, timeout, i + 1) for i in range(users)), return_exceptions=True
    )
    opened = [t for t in tries if not isinstance(t, BaseException)]
    refused = [f"the page did not open: {t!r}" for t in tries if isinstance(t, BaseException)]
    pages = [p for p, _ in opened]
    cpu1 = cpu_seconds(pids)
    await asyncio.sleep(1)
    rss_idle = rss_mb(pids)
    cpu2, mine2, wall2 = cpu_seconds(pids), time.process_time(), time.monotonic()
    # Unfriendly: a fifth send a message of MAX_MESSAGE_CHARS, one a 20 MB file with its own.
    large = len(pages) // 5 if unfriendly else 0
    upload = unfriendly and app == "ours" and len(pages) > large
    prompts = [LONG_MESSAGE] * large + ["Please write about streaming."] * (len(pages) - large)
    uploads: list[tuple[str, bytes, str] | None] = [None] * len(pages)
    if upload:
        uploads[large] = ("notes.txt", big_file(), "text/plain")
    spied = profiling(pids[0], profile, profile_seconds) if profile is not None else _nothing()
    with spied:
        answers = await asyncio.gather(
            *(ask(p, q, timeout, f) for p, q, f in zip(pages, prompts, uploads, strict=True))
        )
    outcomes = [_outcome(a) for a in answers[: large + upload]]
    answers = answers[large + upload :]  # the others: the figures below are theirs
    cpu3, mine3, wall3 = cpu_seconds(pids), time.process_time(), time.monotonic()
    await asyncio.sleep(1)
    rss_answered = rss_mb(pids)
    await asyncio.gather(*(p.close() for p in pages))
    first_token, last_token = server
    firsts = [a.first - first_token for a in answers if a.first is not None]
    ends = [a.end - last_token for a in answers if a.end is not None]
    failed = refused + [a.error or "no answer text" for a in answers if a.error or a.first is None]
    return Row(
        app=app if len(pids) == 1 else f"{app} x{len(pids)} behind nginx",
        users=users,
        first_p50=round(pct(firsts, 50), 2),
        first_p95=round(pct(firsts, 95), 2),
        end_p50=round(pct(ends, 50), 2),
        end_p95=round(pct(ends, 95), 2),
        errors=len(failed),
        cpu_per_answer=round((cpu3 - cpu2) / max(1, len(pages)), 3),
        cpu_per_page=round((cpu1 - cpu0) / users, 3),
        page_p95=round(pct([s for _, s in opened], 95), 2),
        rss_idle_mb=round((rss_idle - rss0) / users, 2),
        rss_answered_mb=round((rss_answered - rss0) / users, 2),
        threads_before=threads0,
        threads_after=threads(pids),
        app_busy=round((cpu3 - cpu2) / (wall3 - wall2), 2),
        client_busy=round((mine3 - mine2) / (wall3 - wall2), 2),
        first_error=Counter(failed).most_common(1)[0][0] if failed else "",
        large=(
            f"{large} of {MESSAGE_CHARS:,} characters: {_tally(outcomes[:large])}"
            + (f"; a 20 MB file: {_tally(outcomes[large:])}" if upload else "")
            if unfriendly
            else ""
        ),
    )


MESSAGE_CHARS = 100_000  # MAX_MESSAGE_CHARS's default: the longest message one may send
LONG_MESSAGE = ("Please read this. " * (MESSAGE_CHARS // 18 + 1))[:MESSAGE_CHARS]


def big_file() -> bytes:
    """20 MB of text (MAX_UPLOAD_MB's default), in lines of the answers' words."""
    line = (" ".join(VOCAB) + "\n").encode()
    return (line * (20_000_000 // len(line) + 1))[:20_000_000]


def _outcome(answer: Answer) -> str:
    if answer.error:
        return f"said: {answer.error[:160]}"
    return "answered" if answer.end is not None else "no answer"


def _tally(outcomes: list[str]) -> str:
    return ", ".join(f"{n} {what}" for what, n in Counter(outcomes).most_common())


@contextmanager
def app_process(
    app: str, base_url: str, options: list[str], uploads: bool = False
) -> Iterator[tuple[str, int]]:
    port = free_port()
    with tempfile.TemporaryDirectory() as home:
        env = {
            "OPENAI_BASE_URL": base_url,
            "OPENAI_API_KEY": "k",
            "OPENAI_MODEL": "m",
            "OPENAI_MAX_RETRIES": "0",
            "HOME": home,
            # No uploads but --unfriendly's: the chat input takes text alone, as in the
            # tutorial.
            "ENABLED_FILE_UPLOAD_MESSAGE": "Upload a file" if uploads else "",
        }
        log = Path(home) / "app.log"
        serve = serving_chainlit if app == "chainlit" else serving
        with (
            log.open("wb") as out,
            serve(command(app, port, options), port, cwd=home, env=env, output=out) as (
                url,
                proc,
            ),
        ):
            try:
                yield url, proc.pid
            finally:
                lines = log.read_text(errors="replace").splitlines()
                problems = [ln for ln in lines if "Traceback" in ln or " ERROR " in ln]
                if problems:
                    print(f"{app}: {len(problems)} errors in its log, e.g.", file=sys.stderr)
                    print("\n".join(lines[-20:]), file=sys.stderr)


@contextmanager
def serving_chainlit(
    cmd: list[str], port: int, *, cwd: str, env: dict[str, str], output: IO[bytes]
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`serving` for Chainlit, which has no Streamlit health check: until its page's first
    request (`/auth/config`) answers; fails if the process exits first."""
    proc = subprocess.Popen(
        cmd, cwd=cwd, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{url}: chainlit exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{url}/auth/config", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url}: chainlit did not answer within 60 s") from None
                time.sleep(0.1)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def app_stack(
    app: str, base_url: str, options: list[str], replicas: int, uploads: bool = False
) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """The app, or `replicas` of it behind the deployment's nginx template (sticky
    sessions; each replica with its own SQLite: sessions never cross)."""
    if replicas == 1:
        with app_process(app, base_url, options, uploads) as (url, pid):
            yield url, [(url, pid)]
        return
    sys.path.insert(0, str(ROOT / "tests" / "deploy"))
    from deploy_stack import Nginx

    with ExitStack() as stack:
        apps = [
            stack.enter_context(app_process(app, base_url, options, uploads))
            for _ in range(replicas)
        ]
        prefix = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        upstreams = [url.removeprefix("http://") for url, _ in apps]
        nginx = Nginx(prefix / "nginx", upstreams).start()
        stack.callback(nginx.stop)
        yield nginx.url, apps


@contextmanager
def profiling(pid: int, out: Path, seconds: float | None = None) -> Iterator[None]:
    """py-spy records the app (collapsed stacks, only the thread holding the GIL: what
    Python spends CPU on) while the block runs, or its first `seconds`."""
    spy = Path(sys.executable).with_name("py-spy")
    proc = subprocess.Popen(
        [
            str(spy),
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--rate",
            "50" if seconds is None else "200",
            "--output",
            str(out),
            "--gil",
            "--nonblocking",
            *(["--duration", str(max(1, round(1 + seconds)))] if seconds else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(1)
    try:
        yield
    finally:
        proc.send_signal(2)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def summarize_profile(path: Path, top: int = 15) -> str:
    """Where the samples were: own time per function, and time under each of ours."""
    own: Counter[str] = Counter()
    under: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        if "(idle)" in stack or frames[-1].startswith(("wait ", "select ", "_wait_for_tstate")):
            continue
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            if "assistants_ui" in frame or "streamlit/" in frame or "chainlit/" in frame:
                under[frame] += n
    lines = [f"{total} busy samples; own time:"]
    lines += [f"  {n / total:5.1%}  {f}" for f, n in own.most_common(top)]
    lines.append("time under (ours, Streamlit's, Chainlit's):")
    lines += [f"  {n / total:5.1%}  {f}" for f, n in under.most_common(top)]
    return "\n".join(lines)


TRANSFERRED = """() => performance.getEntriesByType('navigation')
  .concat(performance.getEntriesByType('resource'))
  .reduce((sum, e) => sum + (e.transferSize || 0), 0)"""


@dataclass
class PageLoad:
    app: str
    cache: str
    seconds: float  # median, from navigation to the chat input on the page
    cpu: float  # the app's CPU seconds per load (median)
    kb: float  # bytes over the network per load (median)


def page_loads(app: str, url: str, pids: list[int], loads: int) -> list[PageLoad]:
    """Open the page in Chromium `loads` times with an empty cache, then with a warm one."""
    from playwright.sync_api import sync_playwright

    from browser_support import launch_chromium

    out = []
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        # The process's first page run imports the app's modules: not counted.
        context = browser.new_context()
        context.new_page().goto(url)
        context.pages[0].get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
        context.close()
        for cache in ("cold", "warm"):
            shared = browser.new_context() if cache == "warm" else None
            if shared is not None:  # fill the cache once
                first = shared.new_page()
                first.goto(url)
                first.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
                first.close()
            seconds, cpu, kb = [], [], []
            for _ in range(loads):
                context = shared or browser.new_context()
                page = context.new_page()
                time.sleep(0.5)
                cpu0, t0 = cpu_seconds(pids), time.monotonic()
                page.goto(url)
                page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
                seconds.append(time.monotonic() - t0)
                time.sleep(0.5)  # the page's last requests and its script run
                cpu.append(cpu_seconds(pids) - cpu0)
                kb.append(page.evaluate(TRANSFERRED) / 1000)
                page.close()
                if shared is None:
                    context.close()
            if shared is not None:
                shared.close()
            out.append(
                PageLoad(
                    app,
                    cache,
                    round(statistics.median(seconds), 2),
                    round(statistics.median(cpu), 3),
                    round(statistics.median(kb)),
                )
            )
        browser.close()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", default="1,10,50,100", help="levels, e.g. 1,10")
    parser.add_argument(
        "--apps", default="ours,tutorial,chainlit", help="some of ours,tutorial,chainlit"
    )
    parser.add_argument("--words", type=int, default=400, help="words per answer")
    parser.add_argument("--delay", type=float, default=0.01, help="seconds between words")
    parser.add_argument("--timeout", type=float, default=180, help="seconds per answer")
    parser.add_argument("--profile", action="store_true", help="py-spy the largest level")
    parser.add_argument(
        "--unfriendly",
        action="store_true",
        help="a fifth of the people send 100,000 characters, one a 20 MB file (ours)",
    )
    parser.add_argument(
        "--profile-seconds",
        type=float,
        help="py-spy only the first seconds after the sends (the first words), at 200 Hz",
    )
    parser.add_argument(
        "--replicas", type=int, default=1, help="ours as this many processes behind nginx"
    )
    parser.add_argument(
        "--page-loads", type=int, default=3, help="Chromium page loads per cache state (0: none)"
    )
    parser.add_argument(
        "--ours-options",
        default="",
        help="more `streamlit run` options for ours, e.g. '--server.fileWatcherType auto'",
    )
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.users.split(",")]
    apps = args.apps.split(",")
    if unknown := [a for a in apps if a not in PAGES]:
        parser.error(f"--apps: no app named {unknown[0]!r} (there are {', '.join(PAGES)})")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    rows: list[Row] = []
    started = time.monotonic()
    load0 = os.getloadavg()[0]
    loads: list[PageLoad] = []
    with fake_server(args.words, args.delay) as (base_url, chunks):
        for app in [a for a in apps if a in BROWSER_APPS] if args.page_loads else []:
            replicas = args.replicas if app == "ours" else 1
            with app_stack(app, base_url, args.ours_options.split(), replicas) as (url, served):
                label = app if replicas == 1 else f"{app} x{replicas} behind nginx"
                loads += page_loads(label, url, [pid for _, pid in served], args.page_loads)
            print(f"measured {app}'s page loads", file=sys.stderr, flush=True)
        # The role chunk goes at once, the first word after one delay, the last chunk
        # after one delay per chunk.
        server = (args.delay, (chunks - 1) * args.delay)
        for users in levels:
            for app in apps:
                replicas = args.replicas if app == "ours" else 1
                options = args.ours_options.split()
                stack = app_stack(app, base_url, options, replicas, args.unfriendly)
                with stack as (url, served):
                    profile = out / f"load-{app}-{users}.txt"
                    spied = args.profile and users == max(levels)
                    row = asyncio.run(
                        level(
                            app,
                            url,
                            served,
                            users,
                            server,
                            args.timeout,
                            profile if spied else None,
                            args.profile_seconds,
                            args.unfriendly,
                        )
                    )
                    if spied:
                        print(f"\n{app}, {users} users:\n{summarize_profile(profile)}\n")
                rows.append(row)
                print(f"measured {app} x {users}", file=sys.stderr, flush=True)
    reply = "".join(reply_words(args.words))
    print(
        f"\nAnswer: {args.words} words, {len(reply.encode()) / 1000:.1f} kB, one word per "
        f"{args.delay * 1000:g} ms from the fake server (its own first token "
        f"{server[0]:.2f} s, last {server[1]:.2f} s). Load average "
        f"{load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; "
        f"{os.cpu_count()} CPUs; {time.monotonic() - started:.0f} s in all.\n"
    )
    print(
        "| app | users | first text p50 / p95 | end p50 / p95 | errors | CPU s / answer "
        "| CPU s / page run | page run p95 | MB / idle session | MB / session answered "
        "| app busy | client busy |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r.app} | {r.users} | +{r.first_p50:.2f} / +{r.first_p95:.2f} s "
            f"| +{r.end_p50:.2f} / +{r.end_p95:.2f} s | {r.errors} | {r.cpu_per_answer:.3f} "
            f"| {r.cpu_per_page:.3f} | {r.page_p95:.2f} s | {r.rss_idle_mb:.2f} "
            f"| {r.rss_answered_mb:.2f} | {r.app_busy:.0%} | {r.client_busy:.0%} |"
        )
    for r in rows:
        if r.first_error:
            print(f"{r.app} x {r.users}: {r.errors} failed, e.g. {r.first_error}")
    for r in rows:
        if r.large:
            print(f"{r.app} x {r.users}, unfriendly (the figures above are the others'): {r.large}")
    print(
        "\n(first text and end: seconds after the server's own first token / last chunk; "
        "MB: the app's RSS growth per session; app busy / client busy: the app's / this "
        "process's CPU while the answers streamed, 100% a core; the client near 100% "
        "measures itself)"
    )
    _targets(rows)
    if loads:
        print(
            f"\nPage loads in headless Chromium (median of {args.page_loads}; until the chat "
            "input shows):\n"
        )
        print("| app | browser cache | seconds | app CPU s | kB transferred |")
        print("|---|---|---:|---:|---:|")
        for p in loads:
            print(f"| {p.app} | {p.cache} | {p.seconds:.2f} | {p.cpu:.3f} | {p.kb:,.0f} |")
    (out / "load.json").write_text(
        json.dumps(
            {"load": [asdict(r) for r in rows], "page": [asdict(p) for p in loads]}, indent=2
        )
    )


def _targets(rows: list[Row]) -> None:
    by = {(r.app, r.users): r for r in rows}
    at50 = by.get(("ours", 50))
    if at50 is not None:
        ok = at50.first_p95 <= 1 and at50.errors == 0
        print(
            f"Target, 50 users: p95 first text <= +1 s and no error: +{at50.first_p95:.2f} s, "
            f"{at50.errors} errors: {'met' if ok else 'NOT met'}."
        )
    for users in sorted({r.users for r in rows}):
        ours, tut = by.get(("ours", users)), by.get(("tutorial", users))
        if ours and tut and tut.cpu_per_answer > 0:
            share = ours.cpu_per_answer / tut.cpu_per_answer
            print(
                f"Target, {users} users: CPU per answer <= half the tutorial's: "
                f"{share:.0%} of it: {'met' if share <= 0.5 else 'NOT met'}."
            )
        chainlit = by.get(("chainlit", users))
        if ours and chainlit and chainlit.cpu_per_answer > 0:
            print(
                f"Beside Chainlit, {users} users: CPU per answer "
                f"{ours.cpu_per_answer / chainlit.cpu_per_answer:.0%} of Chainlit's (no target)."
            )


@contextmanager
def _nothing() -> Iterator[None]:
    yield


if __name__ == "__main__":
    main()
