"""MozaiksCore for Django: the framework package."""

__version__ = "0.1.0"

from mozaiks_core.celery import app as celery_app

__all__ = ["__version__", "celery_app"]
