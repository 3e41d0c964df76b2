# Chorus: slim Python, non-root, dependencies in a cached layer, SQLite in a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 chorus

# Dependencies first, read from pyproject.toml, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN pip install $(python -c "import tomllib; print(' '.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))")

COPY bot ./bot
COPY cogs ./cogs
RUN pip install --no-deps . && mkdir -p /app/data && chown chorus:chorus /app/data

USER chorus
VOLUME ["/app/data"]
CMD ["python", "-m", "bot"]
