"""WSGI entry point for gunicorn: the process that serves requests also owns the engine and ships
the spool (in embedded mode the chDB directory can be opened by one process only)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from config.startup import start_background_services  # noqa: E402

start_background_services()
