"""Pages of inbound e-mail: the webhook on the platform host, and the agents' page of messages
held for a decision (and of the ones refused). Thin: check, call tickets.email_in, render."""

from __future__ import annotations

import hashlib
import hmac
import logging

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from csp_portal.accounts.access import StaffMixin
from csp_portal.accounts.models import Customer, CustomerContact
from csp_portal.accounts.roles import Capability

from . import email_in
from .email_models import InboundMessage
from .models import Ticket

log = logging.getLogger(__name__)


# -- the webhook --------------------------------------------------------------------------


def _authorised(request, body: bytes) -> bool:
    """The shared secret in X-Inbound-Secret, or X-Inbound-Signature: sha256=<hex HMAC of the
    body keyed with it>. With no secret configured nothing is accepted."""
    secret = settings.INBOUND_EMAIL_SECRET
    if not secret:
        return False
    given = request.headers.get("X-Inbound-Secret", "")
    if given and hmac.compare_digest(given.encode(), secret.encode()):
        return True
    signature = request.headers.get("X-Inbound-Signature", "")
    if signature.startswith("sha256="):
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(signature[7:].strip().lower().encode(), expected.encode())
    return False


@csrf_exempt
@require_POST
def inbound_email_webhook(request):
    """POST of one raw RFC 5322 message (as inbound-mail services deliver it). 200 with what
    became of it (applied, held, rejected and logged, duplicate), 400 for malformed MIME, 403
    without the secret, 413 beyond INBOUND_EMAIL_MAX_BYTES."""
    limit = settings.INBOUND_EMAIL_MAX_BYTES
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length.isdigit() and int(length) > limit:
        return JsonResponse({"error": "message too large"}, status=413)
    body = request.read(limit + 1)
    if not _authorised(request, body):
        log.warning("inbound e-mail webhook: missing or wrong secret")
        return JsonResponse({"error": "forbidden"}, status=403)
    if len(body) > limit:
        return JsonResponse({"error": "message too large"}, status=413)
    result = email_in.inbound_message_receive(raw_bytes=body)
    return JsonResponse(result.as_dict(), status=400 if result.outcome == "malformed" else 200)


# -- the agents' page ---------------------------------------------------------------------


class AcceptForm(forms.Form):
    customer = forms.ModelChoiceField(label=gettext_lazy("Customer"), queryset=None)
    requester = forms.ModelChoiceField(
        label=gettext_lazy("Requester"),
        queryset=None,
        required=False,
        help_text=gettext_lazy("A contact of that customer; empty files it in your name."),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Ticket.Kind.choices)
    product = forms.ChoiceField(label=gettext_lazy("Product"), choices=Ticket.Product.choices)

    def __init__(self, *args, partner, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.for_partner(partner).order_by(
            "company_name"
        )
        self.fields["requester"].queryset = (
            CustomerContact.objects.for_partner(partner)
            .filter(is_active=True)
            .select_related("user", "customer")
        )
        self.fields["requester"].label_from_instance = lambda c: f"{c.user} — {c.customer}"

    def clean(self):
        data = super().clean()
        contact = data.get("requester")
        if contact and data.get("customer") and contact.customer_id != data["customer"].pk:
            self.add_error("requester", _("This person is not a contact of that customer."))
        return data


class InboundMixin(StaffMixin):
    # Held mail is unvetted and may hold a customer's data: the people who work tickets.
    capability = Capability.TICKETS_WORK


class InboundListView(InboundMixin, TemplateView):
    template_name = "tickets/staff/inbound_list.html"
    VIEWS = {
        "held": gettext_lazy("Waiting for an agent"),
        "rejected": gettext_lazy("Rejected"),
        "done": gettext_lazy("Handled"),
    }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        view = self.request.GET.get("view", "held")
        view = view if view in self.VIEWS else "held"
        counts = email_in.inbound_message_counts(partner=self.partner)
        items = email_in.inbound_message_list(partner=self.partner, view=view)
        context.update(
            view=view,
            views=[(name, label, counts[name]) for name, label in self.VIEWS.items()],
            page=Paginator(items, 25).get_page(self.request.GET.get("page")),
        )
        return context


class InboundDetailView(InboundMixin, TemplateView):
    template_name = "tickets/staff/inbound_detail.html"

    def get_inbound(self) -> InboundMessage:
        return self.get_object_or_404(
            InboundMessage.objects.select_related("ticket", "decided_by"),
            pk=self.kwargs["inbound_id"],
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        inbound = kwargs.get("inbound") or self.get_inbound()
        context["inbound"] = inbound
        context.setdefault("form", AcceptForm(partner=self.partner))
        return context

    def post(self, request, **kwargs):
        inbound = self.get_inbound()
        if request.POST.get("action") == "discard":
            try:
                email_in.inbound_message_discard(inbound=inbound, acting_user=request.user)
            except ValidationError as error:
                for message in error.messages:
                    messages.error(request, message)
            else:
                messages.success(request, _("The message was discarded."))
            return redirect("inbound:message-list")
        form = AcceptForm(request.POST, partner=self.partner)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = email_in.inbound_message_accept(
                    inbound=inbound,
                    acting_user=request.user,
                    customer=data["customer"],
                    requester=data["requester"],
                    kind=data["kind"],
                    product=data["product"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Ticket %(ref)s opened.") % {"ref": ticket.reference})
                return redirect("tickets:ticket-detail", ticket_id=ticket.pk)
        context = self.get_context_data(form=form, inbound=inbound)
        return self.render_to_response(context, status=400)
