"""ASGI entry point: HTTP through Django, WebSockets through the runtime's Channels routes.

Served by daphne in development (``runserver``) and by uvicorn workers in production.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mozaiks_core.settings")

from django.core.asgi import get_asgi_application

from mozaiks_core.observability import tracing

tracing.configure()  # before Django loads its middleware: the Django instrumentation adds one

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from mozaiks_core.runtime.transport.daphne_close import allow_rfc_close_codes  # noqa: E402
from mozaiks_core.runtime.transport.origins import SameOriginValidator  # noqa: E402
from mozaiks_core.runtime.transport.routing import websocket_urlpatterns  # noqa: E402
from mozaiks_core.runtime.transport.socket_auth import WebSocketAuthMiddleware  # noqa: E402

allow_rfc_close_codes()  # daphne (runserver) closes with 1008 like uvicorn: see daphne_close
application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(WebSocketAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)

from mozaiks_core.runtime.runs.process_tuning import tune_process  # noqa: E402

tune_process()  # after every import of the server process: see process_tuning
