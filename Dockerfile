# poe2openai: an OpenAI-compatible API in front of Poe bots.
#   docker build -t poe2openai .
#   docker run -p 8080:8080 -v poe2openai-data:/data poe2openai
# scripts/check-docker checks this recipe without Docker (hadolint, then the COPY lines, the
# install steps, the CMD and the HEALTHCHECK replayed in a fresh venv); keep it passing.

FROM python:3.11.17-slim-bookworm AS base
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# Stage 1: build the project's wheel (dependencies come from requirements/runtime.txt below).
FROM base AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY service/ service/
COPY generated/ generated/
COPY openapi/ openapi/
COPY admin/ admin/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# Stage 2: the image. Exactly the pinned runtime closure, then the project with --no-deps.
FROM base
RUN groupadd --system --gid 10001 poe2openai \
    && useradd --system --uid 10001 --gid poe2openai --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin poe2openai \
    && mkdir /data \
    && chown poe2openai:poe2openai /data
COPY requirements/runtime.txt /tmp/runtime.txt
RUN pip install --no-cache-dir -r /tmp/runtime.txt && rm /tmp/runtime.txt
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-deps /tmp/wheels/*.whl && rm -rf /tmp/wheels

# models.yaml and the service's state live in CONFIG_DIR; mount a volume there to keep them.
ENV CONFIG_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8080 \
    WORKERS=1
VOLUME ["/data"]
WORKDIR /data
USER 10001:10001
EXPOSE 8080

# /healthz never contacts Poe. No curl in slim images: python's urllib probes it (a non-2xx
# answer or no answer raises, so the exit code is non-zero).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4)"]

CMD ["poe2openai"]
