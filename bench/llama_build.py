"""Benchmark: compiling llama-cpp-python with its default flags vs the Makefile's.

    .venv/bin/python -m bench.llama_build        (or `make bench-build`; ~6 min on 2 cores)

Builds the same llama-cpp-python sdist into a wheel twice, one after the
other, with pip's cache off: once with no CMAKE_ARGS (what `pip install
llama-cpp-python` does), once with the CMAKE_ARGS the Makefile exports (no
multimodal library, no "common" utilities; see scripts/llama-cpp-minimal.cmake).
Prints wall-clock and CPU seconds and the number of compile steps of each.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def makefile_cmake_args() -> str:
    out = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(ROOT), "print-cmake-args"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def installed_version() -> str:
    from importlib.metadata import version

    return version("llama_cpp_python")


def build(sdist_dir: Path, cmake_args: str | None) -> tuple[float, float, int]:
    env = {k: v for k, v in os.environ.items() if k != "CMAKE_ARGS"}
    if cmake_args is not None:
        env["CMAKE_ARGS"] = cmake_args
    sdist = next(sdist_dir.glob("llama_cpp_python-*.tar.gz"))
    with tempfile.TemporaryDirectory() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-cache-dir",
                "--no-deps",
                "-v",
                "-w",
                out,
                str(sdist),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    steps = re.findall(r"\[(\d+)/(\d+)\]", done.stdout + done.stderr)
    total = int(steps[-1][1]) if steps else 0
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, total


def main() -> None:
    version = installed_version()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"llama-cpp-python=={version}",
                "-d",
                tmp,
                "-q",
            ],
            check=True,
        )
        ours = makefile_cmake_args()
        rows = [
            ("default (no CMAKE_ARGS)", *build(Path(tmp), None)),
            ("Makefile's CMAKE_ARGS", *build(Path(tmp), ours)),
        ]
    print(f"\nllama-cpp-python {version} sdist -> wheel, pip cache off, {os.cpu_count()} cores.")
    print(f"Makefile's CMAKE_ARGS: {ours}\n")
    print("| build | wall s | CPU s | compile steps |")
    print("|---|---:|---:|---:|")
    for name, wall, cpu, steps in rows:
        print(f"| {name} | {wall:.0f} | {cpu:.0f} | {steps} |")
    print(f"\nWall-clock ratio default / ours: {rows[0][1] / rows[1][1]:.2f}x")


if __name__ == "__main__":
    main()
