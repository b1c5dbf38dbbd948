"""Pages of billing: the billing workspace (overdue accounts, tomorrow's sweep, a customer's
account, the collection policy, imports) and the customer's invoices, statement and policy."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from csp_portal.accounts.access import CustomerMixin, StaffMixin
from csp_portal.accounts.models import Customer
from csp_portal.accounts.roles import Capability

from . import collections, documents, selectors, services
from .charts import aging_svg
from .forms import ImportForm, InquiryForm, PaymentForm, PolicyForm, ReasonForm, SuspendForm
from .models import Invoice, ReminderSent, Subscription, Suspension
from .reconciliation import ImportRejected, reconciliation_import


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _errors(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


class BillingStaffMixin(StaffMixin):
    capability = Capability.BILLING_READ

    def today(self):
        return timezone.localdate(timezone=self.partner.tz)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_manage"] = self.staff_allows(Capability.BILLING_MANAGE)
        return context


class OverdueDashboardView(BillingStaffMixin, TemplateView):
    template_name = "billing/staff/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = self.today()
        currency = (self.request.GET.get("currency") or self.partner.currency).upper()[:3]
        sort = self.request.GET.get("sort", "amount")
        bucket = self.request.GET.get("bucket", "")
        policy = selectors.policy_current(partner=self.partner)
        buckets = selectors.aging(partner=self.partner, today=today, currency=currency)
        page = selectors.overdue_accounts_page(
            partner=self.partner,
            today=today,
            currency=currency,
            policy=policy,
            sort=sort,
            bucket=bucket,
            page=self.request.GET.get("page"),
        )
        context.update(
            today=today,
            currency=currency,
            sort=sort,
            bucket=bucket,
            buckets=buckets,
            chart=aging_svg(buckets, currency=currency),
            page=page,
            accounts=page.object_list,
            # The list's filters, kept by the page links.
            query=urlencode({"sort": sort, "bucket": bucket, "currency": currency}),
            policy=policy,
        )
        return context


class TomorrowView(BillingStaffMixin, TemplateView):
    """The next sweep's actions (a dry run), and suspensions waiting for approval."""

    template_name = "billing/staff/tomorrow.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tomorrow = self.today() + timedelta(days=1)
        context.update(
            tomorrow=tomorrow,
            plan=collections.dry_run(partner=self.partner, today=tomorrow),
            awaiting=list(selectors.awaiting_approval(partner=self.partner)),
            four_eyes=services.billing_profile_get(partner=self.partner).four_eyes_suspensions,
        )
        return context


class AccountView(BillingStaffMixin, TemplateView):
    template_name = "billing/staff/account.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        customer = self.get_object_or_404(Customer, pk=self.kwargs["customer_id"])
        context.update(
            customer=customer,
            today=self.today(),
            balance=selectors.customer_balance(partner=self.partner, customer=customer),
            policy=selectors.policy_current(partner=self.partner),
            payment_form=kwargs.get("payment_form")
            or PaymentForm(
                initial={"currency": self.partner.currency, "received_on": self.today()}
            ),
            can_suspend=self.staff_allows(Capability.SUBSCRIPTIONS_SUSPEND),
            **selectors.customer_account(partner=self.partner, customer=customer),
        )
        return context


class PaymentCreateView(BillingStaffMixin, View):
    capability = Capability.BILLING_MANAGE

    def post(self, request, customer_id):
        customer = self.get_object_or_404(Customer, pk=customer_id)
        form = PaymentForm(request.POST)
        if form.is_valid():
            try:
                payment = services.payment_record(
                    partner=self.partner,
                    customer=customer,
                    acting_user=request.user,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request,
                    _("Payment of %(currency)s %(amount)s recorded.")
                    % {"currency": payment.currency, "amount": payment.amount},
                )
                return redirect("billing:account", customer_id=customer.pk)
        view = AccountView()
        view.setup(request, customer_id=customer_id)
        view.partner, view.membership = self.partner, self.membership
        return TemplateResponse(
            request, view.template_name, view.get_context_data(payment_form=form), status=400
        )


class SuspendView(BillingStaffMixin, View):
    capability = Capability.SUBSCRIPTIONS_SUSPEND

    def post(self, request, customer_id):
        customer = self.get_object_or_404(Customer, pk=customer_id)
        form = SuspendForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Give the reason for the suspension."))
            return redirect("billing:account", customer_id=customer.pk)
        subscription = self.get_object_or_404(
            Subscription.objects.filter(customer=customer), pk=form.cleaned_data["subscription"]
        )
        try:
            services.subscription_suspend(
                subscription=subscription, note=form.cleaned_data["note"], acting_user=request.user
            )
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(
                request, _("Suspension of %(name)s requested.") % {"name": subscription}
            )
        return redirect("billing:account", customer_id=customer.pk)


class SuspensionActionView(BillingStaffMixin, View):
    capability = Capability.SUBSCRIPTIONS_SUSPEND

    def post(self, request, suspension_id, action):
        suspension = self.get_object_or_404(
            Suspension.objects.select_related("subscription"), pk=suspension_id
        )
        reason = ReasonForm(request.POST).data.get("reason", "")
        try:
            if action == "approve":
                services.suspension_approve(suspension=suspension, acting_user=request.user)
            elif action == "skip":
                services.suspension_skip(
                    suspension=suspension, note=reason, acting_user=request.user
                )
            elif action == "reinstate":
                services.suspension_reinstate(
                    suspension=suspension, reason=reason, acting_user=request.user
                )
            elif action == "retry":
                services.suspension_retry(suspension=suspension, acting_user=request.user)
            else:
                raise Http404
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(request, _("Done."))
        if request.POST.get("next") == "tomorrow":
            return redirect("billing:tomorrow")
        return redirect("billing:account", customer_id=suspension.customer_id)


class StaffInvoicePdfView(BillingStaffMixin, View):
    def get(self, request, invoice_id):
        invoice = self.get_object_or_404(
            Invoice.objects.select_related("customer", "partner"), pk=invoice_id
        )
        return _pdf(documents.invoice_pdf(invoice), f"{invoice.number}.pdf")


class StaffStatementPdfView(BillingStaffMixin, View):
    def get(self, request, customer_id):
        customer = self.get_object_or_404(Customer, pk=customer_id)
        return _pdf(
            documents.statement_pdf(partner=self.partner, customer=customer), "statement.pdf"
        )


class ReminderPdfView(BillingStaffMixin, View):
    def get(self, request, reminder_id):
        reminder = self.get_object_or_404(
            ReminderSent.objects.select_related("invoice__customer", "invoice__partner", "policy"),
            pk=reminder_id,
        )
        return _pdf(documents.reminder_pdf(reminder), documents.reminder_filename(reminder))


class PolicyEditView(BillingStaffMixin, TemplateView):
    capability = Capability.BILLING_MANAGE
    template_name = "billing/staff/policy.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        policy = selectors.policy_current(partner=self.partner)
        initial = {"currency": self.partner.currency}
        if policy:
            initial.update(
                reminder_steps=", ".join(str(s) for s in policy.reminder_steps),
                final_notice_day=policy.final_notice_day,
                grace_days=policy.grace_days,
                suspend_scope=policy.suspend_scope,
                minimum_overdue_amount=policy.minimum_overdue_amount,
                currency=policy.currency,
                reinstate_on_payment=policy.reinstate_on_payment,
                notes=policy.notes,
            )
        context.setdefault("form", kwargs.get("form") or PolicyForm(initial=initial))
        context["policy"] = policy
        return context

    def post(self, request):
        form = PolicyForm(request.POST)
        if form.is_valid():
            try:
                policy = services.collection_policy_publish(
                    partner=self.partner, acting_user=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Version %(v)s is published.") % {"v": policy.version})
                return redirect("billing:policy")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ImportView(BillingStaffMixin, TemplateView):
    capability = Capability.BILLING_MANAGE
    template_name = "billing/staff/import.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", ImportForm())
        return context

    def post(self, request):
        form = ImportForm(request.POST, request.FILES)
        problems = []
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = reconciliation_import(
                    partner=self.partner,
                    file_name=upload.name,
                    content=upload,
                    acting_user=request.user,
                )
            except ImportRejected as error:
                problems = error.messages
            else:
                if result.duplicate:
                    messages.info(request, _("This file was imported before; nothing changed."))
                else:
                    messages.success(
                        request,
                        _("Imported %(rows)s rows into %(invoices)s invoices.")
                        % {
                            "rows": result.record.row_count,
                            "invoices": result.record.invoice_count,
                        },
                    )
                return redirect("billing:import")
        return self.render_to_response(
            self.get_context_data(form=form, problems=problems), status=400
        )


# -- the customer portal ---------------------------------------------------------------------


class CustomerBillingMixin(CustomerMixin):
    admin_only = True


class CustomerInvoicesView(CustomerBillingMixin, TemplateView):
    template_name = "billing/portal/invoices.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["invoices"] = (
            Invoice.objects.for_partner(self.partner)
            .filter(customer=self.customer)
            .exclude(status=Invoice.Status.VOID)
        )
        context["balance"] = selectors.customer_balance(
            partner=self.partner, customer=self.customer
        )
        context["held"] = selectors.held_invoice_ids(partner=self.partner)
        return context


class CustomerInvoicePdfView(CustomerBillingMixin, View):
    def get(self, request, invoice_id):
        invoice = self.get_object_or_404(
            Invoice.objects.filter(customer=self.customer).select_related("customer", "partner"),
            pk=invoice_id,
        )
        return _pdf(documents.invoice_pdf(invoice), f"{invoice.number}.pdf")


class CustomerStatementPdfView(CustomerBillingMixin, View):
    def get(self, request):
        return _pdf(
            documents.statement_pdf(partner=self.partner, customer=self.customer), "statement.pdf"
        )


class CustomerPolicyView(CustomerMixin, TemplateView):
    """The collection policy in force; every contact may read it, an admin acknowledges it."""

    template_name = "billing/portal/policy.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        policy = selectors.policy_current(partner=self.partner)
        context["policy"] = policy
        context["acknowledged"] = bool(
            policy and policy.acknowledgements.filter(customer=self.customer).exists()
        )
        return context

    def post(self, request):
        policy = selectors.policy_current(partner=self.partner)
        if policy is None:
            raise Http404
        try:
            services.policy_acknowledge(policy=policy, contact=self.contact)
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(request, _("Thank you: the policy is acknowledged."))
        return redirect("billing-portal:policy")


class InquiryView(CustomerBillingMixin, TemplateView):
    """A question about an invoice becomes a billing ticket; a dispute also puts the invoice
    on hold, so the collections sweep leaves it alone until it is settled."""

    template_name = "billing/portal/inquiry.html"

    def get_invoice(self):
        return self.get_object_or_404(
            Invoice.objects.filter(customer=self.customer), pk=self.kwargs["invoice_id"]
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["invoice"] = self.get_invoice()
        context.setdefault("form", InquiryForm())
        return context

    def post(self, request, invoice_id):
        invoice = self.get_invoice()
        form = InquiryForm(request.POST)
        if form.is_valid():
            try:
                ticket = services.billing_inquiry_create(
                    invoice=invoice,
                    contact=self.contact,
                    kind=form.cleaned_data["kind"],
                    message=form.cleaned_data["message"],
                )
            except ValidationError as error:
                _errors(request, error)
            else:
                messages.success(
                    request, _("Your question is request %(ref)s.") % {"ref": ticket.reference}
                )
                return redirect("billing-portal:invoices")
        return self.render_to_response(self.get_context_data(form=form), status=400)
