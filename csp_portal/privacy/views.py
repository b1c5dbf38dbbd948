"""Staff pages for GDPR requests about one customer (global admins only)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from csp_portal.accounts.access import StaffMixin
from csp_portal.accounts.models import Customer, CustomerContact
from csp_portal.accounts.roles import Capability

from . import services
from .models import DataExport


class EraseForm(forms.Form):
    confirm_name = forms.CharField(
        label=gettext_lazy("Type the company name to confirm"), max_length=200
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer

    def clean_confirm_name(self):
        value = self.cleaned_data["confirm_name"].strip()
        if value != self.customer.company_name:
            raise forms.ValidationError(_("This is not the customer's company name."))
        return value


class CustomerPrivacyMixin(StaffMixin):
    capability = Capability.PARTNER_MANAGE

    def get_customer(self) -> Customer:
        return self.get_object_or_404(Customer, pk=self.kwargs["customer_id"])


class PrivacyView(CustomerPrivacyMixin, TemplateView):
    template_name = "privacy/customer.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        customer = kwargs.get("customer") or self.get_customer()
        context["customer"] = customer
        context["exports"] = DataExport.objects.for_partner(self.partner).filter(customer=customer)[
            :20
        ]
        context["contact_count"] = (
            CustomerContact.objects.for_partner(self.partner).filter(customer=customer).count()
        )
        context.setdefault("erase_form", EraseForm(customer=customer))
        return context


class ExportCreateView(CustomerPrivacyMixin, View):
    def post(self, request, customer_id):
        customer = self.get_customer()
        services.customer_export_request(
            partner=self.partner, customer=customer, requested_by=request.user
        )
        messages.success(
            request,
            _("The export is being prepared. Refresh this page in a minute to download it."),
        )
        return redirect("privacy:customer", customer_id=customer.pk)


class ExportDownloadView(CustomerPrivacyMixin, View):
    def get(self, request, customer_id, export_id):
        customer = self.get_customer()
        export = self.get_object_or_404(DataExport, pk=export_id, customer=customer)
        if export.status != DataExport.Status.READY or not export.file:
            raise Http404("The export is not ready")
        services.customer_export_downloaded(export=export, user=request.user)
        response = FileResponse(
            services.export_open(export),
            as_attachment=True,
            filename=export.filename,
            content_type="application/zip",
        )
        response["Cache-Control"] = "private, no-store"
        return response


class EraseView(PrivacyView):
    """Erase the customer's people's personal data (the page itself shows what it does)."""

    def post(self, request, customer_id):
        customer = self.get_customer()
        form = EraseForm(request.POST, customer=customer)
        if not form.is_valid():
            context = self.get_context_data(customer=customer, erase_form=form)
            return self.render_to_response(context, status=400)
        result = services.customer_erase_personal_data(
            partner=self.partner, customer=customer, acting_user=request.user
        )
        messages.success(
            request,
            _(
                "Personal data erased: %(people)s people pseudonymised, %(kept)s kept "
                "because they have other roles."
            )
            % {
                "people": result["people_pseudonymised"],
                "kept": result["people_with_other_roles_kept"],
            },
        )
        return redirect("privacy:customer", customer_id=customer.pk)
