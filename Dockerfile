FROM python:3.11-slim
WORKDIR /srv/masthead
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY app ./app
COPY tasks ./tasks
RUN pip install --no-cache-dir .
COPY wsgi.py alembic.ini ./
COPY migrations ./migrations
RUN useradd --system masthead && mkdir -p instance/prometheus && chown -R masthead instance
USER masthead
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "wsgi:app"]
