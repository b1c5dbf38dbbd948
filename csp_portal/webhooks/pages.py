"""The global admin's webhooks page: register endpoints (the secret is shown once), see every
delivery with its attempts, send one again, switch an endpoint off or on."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from csp_portal.accounts.access import StaffMixin
from csp_portal.accounts.roles import Capability

from . import services
from .models import Event, WebhookDelivery, WebhookEndpoint

DELIVERIES_SHOWN = 100


class EndpointForm(forms.Form):
    url = forms.URLField(label=gettext_lazy("URL"), max_length=500, assume_scheme="https")
    description = forms.CharField(label=gettext_lazy("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"), choices=Event.choices, widget=forms.CheckboxSelectMultiple
    )


class WebhooksMixin(StaffMixin):
    capability = Capability.PARTNER_MANAGE


class EndpointListView(WebhooksMixin, TemplateView):
    template_name = "webhooks/endpoints.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["endpoints"] = WebhookEndpoint.objects.for_partner(self.partner)
        context["deliveries"] = (
            WebhookDelivery.objects.for_partner(self.partner)
            .select_related("endpoint")
            .order_by("-created_at", "-pk")[:DELIVERIES_SHOWN]
        )
        context.setdefault("form", EndpointForm())
        return context

    def post(self, request):
        form = EndpointForm(request.POST)
        if form.is_valid():
            try:
                endpoint, secret = services.webhook_endpoint_create(
                    partner=self.partner, created_by=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                return self.render_to_response(
                    self.get_context_data(
                        new_endpoint=endpoint, new_secret=secret, form=EndpointForm()
                    )
                )
        return self.render_to_response(self.get_context_data(form=form), status=400)


class EndpointDetailView(WebhooksMixin, TemplateView):
    template_name = "webhooks/endpoint_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        endpoint = self.get_object_or_404(WebhookEndpoint, pk=self.kwargs["endpoint_id"])
        context["endpoint"] = endpoint
        context["deliveries"] = (
            WebhookDelivery.objects.for_partner(self.partner)
            .filter(endpoint=endpoint)
            .prefetch_related("attempt_log")
            .order_by("-created_at", "-pk")[:DELIVERIES_SHOWN]
        )
        return context

    def post(self, request, endpoint_id):
        endpoint = self.get_object_or_404(WebhookEndpoint, pk=endpoint_id)
        services.webhook_endpoint_set_active(endpoint=endpoint, is_active=not endpoint.is_active)
        messages.success(
            request,
            _("The endpoint is switched off.")
            if endpoint.is_active
            else _("The endpoint is switched on."),
        )
        return redirect("webhooks:endpoint", endpoint_id=endpoint.pk)


class RedeliverView(WebhooksMixin, View):
    def post(self, request, delivery_id):
        delivery = self.get_object_or_404(WebhookDelivery, pk=delivery_id)
        services.webhook_redeliver(delivery=delivery)
        messages.success(request, _("The delivery is being sent again."))
        return redirect("webhooks:endpoint", endpoint_id=delivery.endpoint_id)


staff_patterns = (
    [
        path("", EndpointListView.as_view(), name="list"),
        path("<int:endpoint_id>/", EndpointDetailView.as_view(), name="endpoint"),
        path(
            "deliveries/<int:delivery_id>/redeliver/",
            RedeliverView.as_view(),
            name="redeliver",
        ),
    ],
    "webhooks",
)
