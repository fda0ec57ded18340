# The web app as a container: `app.py serve` on the shipped zoo (trained/), as a non-root
# user, ready when its decoders answer. Build and run (see docs/deploy.md):
#   docker build -t sample-generator .
#   docker run --rm -p 8000:8000 sample-generator
# Settings come from SAMPLE_GENERATOR_* variables (app.py serve --help), e.g.
#   docker run -e SAMPLE_GENERATOR_ACCESS_LOG=json -e SAMPLE_GENERATOR_PROXIES=10.0.0.0/8 ...
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SAMPLE_GENERATOR_HOST=0.0.0.0 \
    SAMPLE_GENERATOR_PORT=8000 \
    SAMPLE_GENERATOR_MODELS=/app/trained \
    SAMPLE_GENERATOR_ACCESS_LOG=json

WORKDIR /app
# the versions of requirements.lock, with hashes (`make lock` writes both)
COPY deploy/requirements-serve.txt /tmp/requirements-serve.txt
RUN pip install --no-compile --require-hashes -r /tmp/requirements-serve.txt \
    && rm /tmp/requirements-serve.txt \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin drums

# Only what serving needs: the code the server imports and the shipped zoo.
COPY --chown=root:root app.py constants.py ./
COPY --chown=root:root commands/ commands/
COPY --chown=root:root web/ web/
COPY --chown=root:root models/ models/
COPY --chown=root:root audio/ audio/
COPY --chown=root:root evaluation/ evaluation/
COPY --chown=root:root safeio/ safeio/
COPY --chown=root:root preprocessing/ preprocessing/
COPY --chown=root:root trained/ trained/

USER 10001
EXPOSE 8000
# Ready only once its decoding processes answer (GET /readyz), as the Kubernetes probe asks.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ['SAMPLE_GENERATOR_PORT'], timeout=2)"]
# SIGTERM (docker stop, Kubernetes) drains: requests in flight finish, then exit 0.
STOPSIGNAL SIGTERM
CMD ["python", "app.py", "serve"]
