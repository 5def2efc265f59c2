# syntax=docker/dockerfile:1
# Assistants UI: the app, the bundled local model, and nothing else (docs/deployment.md).
#
#   docker build -t assistants-ui .
#   docker run -p 8501:8501 -v assistants-ui-data:/app/data assistants-ui
#
# Stages: `llama` compiles the llama-cpp-python wheel (compilers stay there), `venv`
# installs the app and its dependencies into /opt/venv from that wheel, and the final
# stage copies /opt/venv onto a clean slim base and runs as an unprivileged user.
# deploy/image-build holds the commands of the first two stages.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- 1. llama-cpp-python, compiled for a portable CPU baseline ---------------------------
FROM ${PYTHON_IMAGE} AS llama
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY deploy/image-build deploy/
COPY scripts/llama-cpp-minimal.cmake scripts/
# amd64: x86-64-v3 (AVX2/FMA, 2013+ CPUs); arm64: ARMv8-A. See deploy/image-build.
ARG TARGETARCH
ARG LLAMA_CPU_ARGS=""
ARG LLAMA_CPP_PYTHON_VERSION=0.3.36
# pip behind a TLS-intercepting proxy: its CA bundle as the build secret `pip_ca`, mounted
# for this step only, never in a layer (`--secret id=pip_ca,src=/etc/ssl/certs/ca-certificates.crt`).
RUN --mount=type=secret,id=pip_ca deploy/image-build wheel /wheels

# --- 2. the app's virtualenv (no compiler here: only wheels are installed) ----------------
FROM ${PYTHON_IMAGE} AS venv
WORKDIR /build
COPY --from=llama /wheels /wheels
COPY deploy/image-build deploy/
COPY pyproject.toml README.md ./
COPY src src
ARG LLAMA_CPP_PYTHON_VERSION=0.3.36
RUN --mount=type=secret,id=pip_ca deploy/image-build venv /opt/venv /wheels /build

# --- 3. the image ----------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
# libgomp1: llama.cpp's OpenMP threads (the slim base lacks it).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin app
COPY --from=venv /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false
# The working directory is where the app looks for .env, .streamlit/secrets.toml,
# assistants.toml and data/: mount them there (compose.yaml does); none is baked in.
WORKDIR /app
# Streamlit's options; `assistants-ui run` (the CMD) also gives it the configuration's
# largest max_upload_mb as server.maxUploadSize (docs/security.md, "Uploads").
COPY .streamlit/config.toml .streamlit/config.toml
RUN mkdir -p data && chown app:app data
VOLUME ["/app/data"]
USER app
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "assistants_ui.health"]
CMD ["assistants-ui", "run", "--port", "8501", "--address", "0.0.0.0"]
