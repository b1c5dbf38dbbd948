from .roles import Capability


def portal(request):
    """The partner's branding and the viewer's standing, for every template."""
    membership = getattr(request, "membership", None)
    return {
        "partner": getattr(request, "partner", None),
        "membership": membership,
        "contact": getattr(request, "contact", None),
        "can": {c.name.lower(): bool(membership and membership.allows(c)) for c in Capability},
    }
