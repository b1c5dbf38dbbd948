"""The platform URLconf with the benchmark's bare view in front (when BENCH_BARE_VIEW)."""

from django.conf import settings
from django.http import HttpResponse
from django.urls import path

from csp_portal.urls import handler403, handler404, handler500
from csp_portal.urls import urlpatterns as platform_urls

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


def bare(request):
    """The least a request can cost on this stack: every middleware, no query of its own."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/bare", bare)] if settings.BENCH_BARE_VIEW else []
urlpatterns += platform_urls
