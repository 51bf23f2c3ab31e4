"""Celery only: the app and thin tasks that carry ids. The only package that imports Celery.

`celery -A workers worker|inspect|status|events|flower` finds the app here (`celery`); it reads
its settings from the environment when it is configured, not at this import.
"""

from workers.app import create_app

celery = create_app()

__all__ = ["celery"]
