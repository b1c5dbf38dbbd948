"""Who may call an endpoint: a member of the request's partner whose roles grant the view's
capability, or (where the view allows it) a contact of one of its customers — and, for a
token, only within its scopes. A person with no standing in the partner gets 404."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from csp_portal.accounts.selectors import contact_for, membership_for

from .models import ApiToken


class PartnerAccess(BasePermission):
    def has_permission(self, request, view) -> bool:
        partner = getattr(request._request, "partner", None)
        if partner is None:
            raise NotFound
        if not request.user or not request.user.is_authenticated:
            return False
        view.partner = partner
        view.membership = membership_for(partner=partner, user=request.user)
        view.contact = None if view.membership else contact_for(partner=partner, user=request.user)
        reading = request.method in SAFE_METHODS
        token = request.auth if isinstance(request.auth, ApiToken) else None
        scope = view.read_scope if reading else view.write_scope
        if token is not None and scope not in token.scopes:
            raise PermissionDenied(_("This token lacks the %(scope)s scope.") % {"scope": scope})
        if view.membership is not None:
            capability = view.staff_read if reading else view.staff_write
            return capability is not None and view.membership.allows(capability)
        if view.contact is not None:
            return view.contact_read if reading else view.contact_write
        raise NotFound
