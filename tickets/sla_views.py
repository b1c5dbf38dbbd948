"""The agent workspace's SLA pages: the report (met and missed per priority, time per pause
reason) and the desk's SLA settings. Thin: validate, call one service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from csp_portal.accounts.access import StaffMixin
from csp_portal.accounts.roles import Capability

from .sla_forms import SlaSettingsForm
from .sla_selectors import sla_report
from .sla_services import desk_settings, sla_settings_update, sla_targets


class SlaReportView(StaffMixin, TemplateView):
    capability = Capability.TICKETS_READ
    template_name = "tickets/sla/report.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["report"] = sla_report(partner=self.partner)
        context["can_manage"] = self.staff_allows(Capability.PARTNER_MANAGE)
        return context


class SlaSettingsView(StaffMixin, TemplateView):
    capability = Capability.PARTNER_MANAGE
    template_name = "tickets/sla/settings.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if "form" not in context:
            initial = {
                "auto_close_after_days": desk_settings(partner=self.partner).auto_close_after_days
            }
            for priority, target in sla_targets(partner=self.partner).items():
                initial[f"{priority}_first_response"] = target.first_response_minutes
                initial[f"{priority}_resolution"] = target.resolution_minutes
            context["form"] = SlaSettingsForm(initial=initial)
        return context

    def post(self, request, **kwargs):
        form = SlaSettingsForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        sla_settings_update(
            partner=self.partner,
            targets=form.targets(),
            auto_close_after_days=form.cleaned_data["auto_close_after_days"],
        )
        messages.success(request, _("SLA settings saved."))
        return redirect("tickets:sla-settings")
