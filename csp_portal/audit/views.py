"""The global admin's audit log page."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from csp_portal.accounts.access import StaffMixin
from csp_portal.accounts.roles import Capability

from . import selectors
from .models import Action

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.CharField(label=_("Who"), required=False, max_length=100)
    target_type = forms.ChoiceField(label=_("Object type"), required=False)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, partner, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Action.choices)
        actions = sorted(set(selectors.audit_actions(partner=partner)) | set(labels))
        self.fields["action"].choices = [("", _("All actions"))] + [
            (action, labels.get(action, action)) for action in actions
        ]
        self.fields["target_type"].choices = [("", _("All types"))] + [
            (kind, kind) for kind in selectors.audit_target_types(partner=partner)
        ]


class AuditLogView(StaffMixin, TemplateView):
    capability = Capability.PARTNER_MANAGE
    template_name = "audit/event_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = AuditFilterForm(self.request.GET or None, partner=self.partner)
        filters = selectors.AuditFilters()
        if form.is_bound and form.is_valid():
            filters = selectors.AuditFilters(**form.cleaned_data)
        events = selectors.audit_event_list(partner=self.partner, filters=filters)
        context["page"] = Paginator(events, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context["form"] = form
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query"] = query.urlencode()
        return context
