"""The one way pages reach the request's partner and check who may see them.

- A page of the staff workspace needs an active membership of the request's partner; a user
  without one gets 404 (the workspace of a partner one does not belong to does not exist for
  them). A member whose roles lack the page's capability gets 403.
- A page of the customer portal needs a contact of one of the partner's customers.
- Objects are fetched with `get_for_partner_or_404`, so another partner's id answers 404.
"""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404

from .roles import Capability
from .tenancy import get_for_partner_or_404


class PartnerMixin:
    """Any page served on a partner's portal."""

    def dispatch(self, request, *args, **kwargs):
        if getattr(request, "partner", None) is None:
            raise Http404("No partner portal here")
        self.partner = request.partner
        return super().dispatch(request, *args, **kwargs)

    def get_object_or_404(self, queryset_or_model, **lookup):
        return get_for_partner_or_404(queryset_or_model, self.partner, **lookup)


ANY_STAFF = "any_staff"


class StaffMixin(LoginRequiredMixin, PartnerMixin):
    """A page of the staff workspace; `capability` names what the page needs (`ANY_STAFF`
    for pages every member has, such as the workspace home)."""

    capability: Capability | str | None = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.membership = getattr(request, "membership", None)
        if self.membership is None:
            raise Http404("Not a member of this partner")
        if self.capability is None:
            raise ImproperlyConfigured(f"{type(self).__name__} must name its capability")
        if self.capability != ANY_STAFF and not self.membership.allows(self.capability):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def staff_allows(self, capability: Capability) -> bool:
        return self.membership.allows(capability)


class CustomerMixin(LoginRequiredMixin, PartnerMixin):
    """A page of the customer portal; `admin_only` for customer admins."""

    admin_only = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.contact = getattr(request, "contact", None)
        if self.contact is None:
            raise Http404("Not a contact of this partner's customers")
        if self.admin_only and not self.contact.is_admin:
            raise PermissionDenied
        self.customer = self.contact.customer
        return super().dispatch(request, *args, **kwargs)
