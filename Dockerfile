# Ponte's image: one image, every process (see Procfile / docker-compose.yml).
# The build stage has pip and the wheel cache; the final stage only the virtualenv, the
# code and a non-root user. Requirements are copied first so code changes reuse the
# dependency layer.
FROM python:3.13-slim AS build
WORKDIR /app
COPY requirements.txt constraints.txt ./
RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir -r requirements.txt -c constraints.txt

FROM python:3.13-slim
RUN useradd --create-home --uid 10001 ponte && mkdir -p /data && chown ponte:ponte /data
COPY --from=build /venv /venv
WORKDIR /app
COPY --chown=ponte:ponte . .
USER ponte
ENV PATH="/venv/bin:$PATH" PYTHONUNBUFFERED=1 PONTE_ENV=production
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
