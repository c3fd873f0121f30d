FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml constraints.txt ./
RUN pip install --no-cache-dir -c constraints.txt -e . 2>/dev/null || true
COPY . .
RUN pip install --no-cache-dir -c constraints.txt -e . \
    && SECRET_KEY=build-only DEBUG=false python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "cxhub.wsgi:application", "--bind", "0.0.0.0:8000"]
