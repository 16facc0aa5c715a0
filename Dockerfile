# The server image: the Django server (gunicorn), the export worker and the one-shot migrations of
# docker-compose.yml all run it. Built from the repository root: `docker compose build`.

# Stage 1: the dashboard pages' script, Chart.js bundled in by esbuild (npm packages, pinned by the
# lock file); only the built file reaches the server image.
FROM node:20.19.5-bookworm-slim AS dashboards-ui
WORKDIR /ui/components/dashboards-ui
COPY components/dashboards-ui/package.json components/dashboards-ui/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY components/dashboards-ui/build.mjs ./
COPY components/dashboards-ui/src ./src
RUN mkdir -p /ui/server/dashboards/static/dashboards && node build.mjs

FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ANALYTICS_DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /app

# Dependencies first (pyproject.toml packages nothing: it lists what server/ needs), so a code
# change does not reinstall them. psycopg (the `postgres` extra) for DATABASE_URL=postgres://...
COPY pyproject.toml ./
RUN pip install ".[postgres]"

COPY server ./server
COPY --from=dashboards-ui /ui/server/dashboards/static/dashboards/app.js ./server/dashboards/static/dashboards/app.js
COPY clickhouse ./clickhouse
COPY components/client ./components/client
# The dashboard definitions: Grafana provisions them, the server's own pages render them.
COPY grafana/dashboards ./grafana/dashboards

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /data \
    && chown app:app /data
USER app

WORKDIR /app/server
EXPOSE 8000
VOLUME ["/data"]
CMD ["gunicorn", "config.wsgi:application", "-c", "config/gunicorn.conf.py"]
