# The dialer's image: the same `dialer` command as `make install` builds, for workers, beat and the
# webhook receiver; built with the project's own dependencies (pyproject.toml) and nothing else.
#   EXTRAS=[flower] adds the project's `flower` extra (the compose file's flower service).
FROM python:3.11-slim
ARG EXTRAS=""
WORKDIR /app
COPY pyproject.toml README.md ./
COPY dialer ./dialer
COPY campaigns ./campaigns
COPY workers ./workers
RUN pip install --no-cache-dir ".${EXTRAS}" \
    && useradd --create-home --uid 1000 dialer
# Celery warns against running a worker as root; nothing here needs it.
USER dialer
ENTRYPOINT ["dialer"]
