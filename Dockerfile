FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml requirements.lock README.md alembic.ini schema.graphql ./
COPY graphql_api ./graphql_api
COPY workers ./workers
COPY migrations ./migrations
# The playground's pinned, integrity-checked assets go in at build time: the app user cannot write here.
RUN pip install --no-cache-dir -c requirements.lock -e . && graphql-api playground-assets \
    && useradd --create-home app
USER app
EXPOSE 8000
CMD ["graphql-api", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
