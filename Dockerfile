# Chorus: slim Python, non-root, dependencies in a cached layer, SQLite in a volume, health-checked.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HEALTH_PORT=8080 \
    HEALTH_HOST=0.0.0.0

WORKDIR /app
RUN useradd --create-home --uid 10001 chorus
# ffmpeg encodes each song to Opus for voice (/listen): Debian's package, without recommends, apt's lists removed.
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*

# Dependencies first, read from pyproject.toml (the same list CI installs), so code changes reuse this layer.
COPY pyproject.toml README.md ./
RUN pip install $(python -c "import tomllib; print(' '.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))")

COPY bot ./bot
COPY cogs ./cogs
RUN pip install --no-deps . && mkdir -p /app/data && chown chorus:chorus /app/data

USER chorus
VOLUME ["/app/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"HEALTH_PORT\"]}/healthz', timeout=4)"
# SIGTERM (docker stop) shuts down gracefully; give the poll cycle time to finish (compose: stop_grace_period).
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot"]
