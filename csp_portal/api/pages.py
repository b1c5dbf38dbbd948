"""The global admin's page for API tokens: issue (the key is shown once), see last use, revoke."""

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
from csp_portal.accounts.models import CustomerContact, Membership, User
from csp_portal.accounts.roles import Capability

from . import services
from .models import ApiToken, Scope


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Integration name"), max_length=100)
    user = forms.ModelChoiceField(label=gettext_lazy("Acts as"), queryset=User.objects.none())
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple
    )
    expires_at = forms.DateTimeField(
        label=gettext_lazy("Expires"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    rate_limit_per_minute = forms.IntegerField(
        label=gettext_lazy("Requests per minute"), min_value=1, max_value=10_000, initial=600
    )

    def __init__(self, *args, partner, **kwargs):
        super().__init__(*args, **kwargs)
        staff = Membership.objects.for_partner(partner).filter(is_active=True).values("user_id")
        contacts = (
            CustomerContact.objects.for_partner(partner).filter(is_active=True).values("user_id")
        )
        self.fields["user"].queryset = User.objects.filter(pk__in=staff.union(contacts)).order_by(
            "email"
        )


class TokenListView(StaffMixin, TemplateView):
    capability = Capability.PARTNER_MANAGE
    template_name = "api/tokens.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tokens"] = ApiToken.objects.for_partner(self.partner).select_related(
            "user", "created_by"
        )
        context.setdefault(
            "form", TokenForm(partner=self.partner, initial={"user": self.request.user.pk})
        )
        return context

    def post(self, request):
        form = TokenForm(request.POST, partner=self.partner)
        if form.is_valid():
            try:
                token, key = services.api_token_create(
                    partner=self.partner, created_by=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                return self.render_to_response(
                    self.get_context_data(
                        new_key=key, new_token=token, form=TokenForm(partner=self.partner)
                    )
                )
        return self.render_to_response(self.get_context_data(form=form), status=400)


class TokenRevokeView(StaffMixin, View):
    capability = Capability.PARTNER_MANAGE

    def post(self, request, token_id):
        token = self.get_object_or_404(ApiToken, pk=token_id)
        services.api_token_revoke(token=token, acting_user=request.user)
        messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
        return redirect("api-tokens:list")


urlpatterns = (
    [
        path("", TokenListView.as_view(), name="list"),
        path("<int:token_id>/revoke/", TokenRevokeView.as_view(), name="revoke"),
    ],
    "api-tokens",
)
