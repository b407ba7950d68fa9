# syntax=docker/dockerfile:1
# Build: docker build -t linshi-jiuzhu .
# Migrate: docker run --rm -e DATABASE_URL=... linshi-jiuzhu linshi migrate
# Serve:   docker run -p 8000:8000 -e APP_ENV=production -e DATABASE_URL=... \
#            -e JWT_SECRET=... linshi-jiuzhu

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml ./
COPY app ./app
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/venv/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 linshi
WORKDIR /srv
COPY --from=build /opt/venv /opt/venv
COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
# The source tree in /srv comes first, so migrations/ is found beside app/.
ENV PATH="/opt/venv/bin:$PATH" PYTHONPATH=/srv PYTHONUNBUFFERED=1 APP_ENV=production
USER linshi
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["uvicorn", "app.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]
