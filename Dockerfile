# The dialer's image: the same `dialer` command as `make install` builds, for workers and beat.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY dialer ./dialer
COPY campaigns ./campaigns
COPY workers ./workers
RUN pip install --no-cache-dir .
ENTRYPOINT ["dialer"]
