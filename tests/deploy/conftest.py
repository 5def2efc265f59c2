"""Session fixtures of the deploy tests: the image, built once; the stand-in images.

The image is built once per test session (the llama.cpp compile inside it is the
slow part) and reused by every container test; Podman's layer cache stays on the
machine between runs, so a run after the first rebuilds only what changed. The
figures (build seconds, image size, SIGTERM stop seconds) are printed at the end
of the run, under "deploy figures".
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from containers import (
    FIGURES,
    IMAGE,
    STANDINS,
    BuiltImage,
    base_image,
    build_context,
    build_image,
    podman,
)


@pytest.fixture(scope="session")
def app_image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltImage]:
    """The Dockerfile built as it is (tag IMAGE). The tag is kept: it is the layer cache."""
    folder = tmp_path_factory.mktemp("image")
    context = build_context(folder / "context")
    try:
        seconds = build_image(context, IMAGE)
        size = int(podman("image", "inspect", "--format", "{{.Size}}", IMAGE,
                          step="image size").stdout.strip())  # fmt: skip
        FIGURES["image build, this run (s)"] = f"{seconds:.0f}"
        FIGURES["image size (podman image inspect)"] = f"{size / 1e6:.0f} MB"
        yield BuiltImage(IMAGE, context, seconds, size)
    finally:
        shutil.rmtree(context, ignore_errors=True)


@pytest.fixture(scope="session")
def standin_images() -> dict[str, str]:
    """compose.scale.yaml's nginx and postgres images, which no registry can give here:
    Debian's nginx and PostgreSQL behind the official images' interfaces
    (tests/deploy/images/*/Containerfile), built FROM the local base image."""
    tags = {}
    for name in ("nginx", "postgres"):
        tag = f"localhost/assistants-ui-test-{name}:latest"
        podman("build", "--format=docker", "--network=host", "--layers",
               f"--build-arg=BASE={base_image()}", f"--tag={tag}", str(STANDINS / name),
               step=f"build the {name} stand-in image", timeout=900)  # fmt: skip
        tags[name] = tag
    return tags


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("deploy figures")
        for name, value in FIGURES.items():
            terminalreporter.write_line(f"{name}: {value}")
