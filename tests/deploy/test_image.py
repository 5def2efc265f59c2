"""The Dockerfile read as text: its stages, its user, what it copies, its build flags.

Quick checks that need no engine. The image itself is built and run with Podman by
test_image_container.py (the .dockerignore, CMD, HEALTHCHECK, user, SIGTERM, the
layers' contents) and brought up with Compose by test_compose_up.py.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

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
