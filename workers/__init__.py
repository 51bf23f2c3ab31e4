"""Celery only: the app and thin tasks that carry ids. The only package that imports Celery."""
