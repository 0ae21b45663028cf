"""The scrape endpoint ``/metrics``: Prometheus text, for a caller holding ``MOZAIKS_METRICS_TOKEN``.

Without a configured token the endpoint does not exist (404); with one, a request without
``Authorization: Bearer <token>`` (or with another token) gets 401 and no data. An operator who
prefers an internal-only bind sets the token anyway and lets the load balancer keep ``/metrics``
private.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from mozaiks_core.observability import metrics


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The host's (multiprocess mode) or the process's metrics."""
    token = str(getattr(settings, "MOZAIKS_METRICS_TOKEN", "") or "")
    if not token:
        raise Http404("metrics are off: set MOZAIKS_METRICS_TOKEN to serve them")
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), token.encode()):
        response = HttpResponse("metrics need Authorization: Bearer <MOZAIKS_METRICS_TOKEN>\n", status=401,
                                content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics.scrape(), content_type=CONTENT_TYPE_LATEST)
