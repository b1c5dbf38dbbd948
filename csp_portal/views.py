from django.conf import settings
from django.shortcuts import render

from csp_portal.accounts.models import Partner


def platform_home(request):
    """The platform's own page. Partner portals are listed only in development, where the
    /p/<slug>/ addresses are how a newcomer reaches them."""
    partners = Partner.objects.filter(is_active=True) if settings.DEBUG else Partner.objects.none()
    return render(request, "platform_home.html", {"partners": partners})
