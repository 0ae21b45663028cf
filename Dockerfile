# syntax=docker/dockerfile:1
# The MozaiksCore image: one image, one process per container, chosen by role (docs/deployment.md).
#   docker build -t mozaiks .
#   docker run mozaiks web | runs | default | beat | migrate | manage <command>
# Roles run the Procfile's lines (mozaiks_core/entrypoint.py); compose.yaml runs the whole topology.

# --- build: the virtualenv with the package and its [otel] extra ----------------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY mozaiks_core ./mozaiks_core
RUN python -m venv /opt/venv && /opt/venv/bin/pip install ".[otel]"

# --- runtime: the virtualenv, the project folder, static files collected, a non-root user ---
FROM python:3.11-slim AS runtime
RUN groupadd --system --gid 10001 mozaiks && useradd --system --uid 10001 --gid mozaiks --home-dir /app mozaiks
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=mozaiks_core.settings \
    MOZAIKS_BASE_DIR=/app \
    MOZAIKS_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    PROMETHEUS_MULTIPROC_DIR=/app/var/metrics \
    PORT=8000
WORKDIR /app
COPY manage.py Procfile ./
COPY app ./app
COPY templates ./templates
COPY docker/entrypoint.sh /usr/local/bin/mozaiks-entrypoint
# collectstatic in production mode (hashed, compressed files for whitenoise), with a throwaway key.
RUN DEBUG=false ALLOWED_HOSTS=localhost \
    SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput -v0 \
    && mkdir -p /app/var/metrics && chown -R mozaiks:mozaiks /app/var
USER mozaiks
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/health', timeout=4)"
ENTRYPOINT ["mozaiks-entrypoint"]
CMD ["web"]
