"""Staff pages of escalations: escalate a ticket (the panel on the ticket page links here),
record Microsoft's case number, download the prepared request, the entitlements page and the
report. Thin: validate, call one service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from csp_portal import outbox
from csp_portal.accounts.access import StaffMixin
from csp_portal.accounts.roles import Capability
from tickets import selectors as ticket_selectors
from tickets.models import Ticket

from . import selectors, services
from .forms import (
    CaseNumberForm,
    EscalationForm,
    SupportBenefitFormSet,
    SupportContractFormSet,
    escalation_initial,
)
from .models import Escalation


def escalation_form(*, partner, ticket, user, panel, data=None) -> EscalationForm:
    return EscalationForm(
        data,
        options=panel["options"],
        attachments=panel["attachments"],
        catalog=panel["catalog"],
        initial=escalation_initial(
            ticket=ticket,
            user=user,
            preferred=panel["preferred"],
            severity=services.severity_for(ticket),
        ),
    )


class EscalateView(StaffMixin, TemplateView):
    """The escalation form on its own page, beside the router's channels (a refused
    escalation is shown again with what the agent typed); the ticket page's panel links
    here."""

    capability = Capability.ESCALATIONS_CREATE
    template_name = "escalation/escalate.html"

    def get_ticket(self) -> Ticket:
        try:
            return ticket_selectors.ticket_detail(
                partner=self.partner, ticket_id=self.kwargs["ticket_id"], include_internal=True
            )
        except Ticket.DoesNotExist as error:
            from django.http import Http404

            raise Http404(_("No such ticket")) from error

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ticket = kwargs.get("ticket") or self.get_ticket()
        panel = kwargs.get("panel") or selectors.escalation_panel(
            partner=self.partner, ticket=ticket
        )
        context.update(panel)
        context["ticket"] = ticket
        context.setdefault(
            "form",
            escalation_form(
                partner=self.partner, ticket=ticket, user=self.request.user, panel=panel
            ),
        )
        return context

    def post(self, request, ticket_id):
        ticket = self.get_ticket()
        panel = selectors.escalation_panel(partner=self.partner, ticket=ticket)
        form = escalation_form(
            partner=self.partner, ticket=ticket, user=request.user, panel=panel, data=request.POST
        )
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    services.escalation_create(
                        ticket=ticket,
                        acting_user=request.user,
                        channel=data["channel"],
                        severity=data["severity"],
                        title=data["title"],
                        description=data["description"],
                        contact_name=data["contact_name"],
                        contact_email=data["contact_email"],
                        contact_phone=data["contact_phone"],
                        attachment_ids=data["attachments"],
                        subscription_ref=data["subscription_ref"],
                        azure_subscription_id=data.get("azure_subscription_id", ""),
                        azure_resource_id=data.get("azure_resource_id", ""),
                        problem_classification_id=data.get("problem_classification_id", ""),
                    )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Escalated."))
                return redirect("tickets:ticket-detail", ticket_id=ticket.pk)
        return self.render_to_response(
            self.get_context_data(form=form, ticket=ticket, panel=panel), status=400
        )


class EscalationMixin(StaffMixin):
    capability = Capability.ESCALATIONS_CREATE

    def get_escalation(self) -> Escalation:
        return self.get_object_or_404(
            Escalation.objects.select_related("ticket", "customer"), pk=self.kwargs["escalation_id"]
        )


class CaseNumberView(EscalationMixin, View):
    def post(self, request, escalation_id):
        escalation = self.get_escalation()
        form = CaseNumberForm(request.POST)
        try:
            if not form.is_valid():
                raise ValidationError(_("Enter Microsoft's case number."))
            with transaction.atomic():
                services.escalation_record_case_number(
                    escalation=escalation,
                    case_number=form.cleaned_data["case_number"],
                    acting_user=request.user,
                )
        except ValidationError as error:
            for message in error.messages:
                messages.error(
                    request,
                    f"{message} ({_('you entered')} “{request.POST.get('case_number', '')[:40]}”)",
                )
        else:
            messages.success(request, _("Case number recorded: the portal now tracks it."))
        return redirect("tickets:ticket-detail", ticket_id=escalation.ticket_id)


class PreparedTextView(EscalationMixin, View):
    def get(self, request, escalation_id):
        escalation = self.get_escalation()
        response = HttpResponse(
            services.escalation_prepared_text(escalation), content_type="text/plain; charset=utf-8"
        )
        name = f"escalation-{escalation.ticket.reference}.txt"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response


class SyncView(EscalationMixin, View):
    """Ask for a sync now (the beat task does it every few minutes anyway)."""

    def post(self, request, escalation_id):
        escalation = self.get_escalation()
        from .tasks import escalation_azure_create, escalation_sync

        partner_id, pk = self.partner.pk, escalation.pk
        task = (
            escalation_azure_create
            if escalation.status == Escalation.Status.QUEUED
            else escalation_sync
        )
        outbox.enqueue(task, partner_id=partner_id, escalation_id=pk)
        messages.success(request, _("Sync requested."))
        return redirect("tickets:ticket-detail", ticket_id=escalation.ticket_id)


class EntitlementsView(StaffMixin, TemplateView):
    """Global admins record the partner's support contracts and benefits."""

    capability = Capability.PARTNER_MANAGE
    template_name = "escalation/entitlements.html"

    def _formsets(self, data=None):
        return {
            "contracts": SupportContractFormSet(data, partner=self.partner, prefix="contracts"),
            "benefits": SupportBenefitFormSet(data, partner=self.partner, prefix="benefits"),
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("formsets", self._formsets())
        return context

    def post(self, request):
        formsets = self._formsets(request.POST)
        if all(formset.is_valid() for formset in formsets.values()):
            services.entitlements_update(partner=self.partner, formsets=formsets.values())
            messages.success(request, _("Entitlements saved."))
            return redirect("escalation:entitlements")
        messages.error(request, _("Nothing was saved: please correct the rows marked below."))
        return self.render_to_response(self.get_context_data(formsets=formsets), status=400)


class ReportView(StaffMixin, TemplateView):
    capability = Capability.ESCALATIONS_CREATE
    template_name = "escalation/report.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(selectors.escalation_report(partner=self.partner))
        return context
