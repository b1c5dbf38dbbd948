"""Pages of the portal shell: the partner's public pages, the customer home, the staff
workspace's people and customers, invitations and settings."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from . import selectors, services
from .access import ANY_STAFF, CustomerMixin, PartnerMixin, StaffMixin
from .forms import (
    OFFERING_FORMSETS,
    AcceptInvitationForm,
    BrandingForm,
    ContactInvitationForm,
    CustomerForm,
    MembershipForm,
    ProfileForm,
    StaffInvitationForm,
)
from .models import Customer, CustomerContact, Invitation, Membership, Partner
from .roles import Capability, ContactRole


def _form_errors_to_messages(request, error: ValidationError, form=None) -> None:
    if form is not None and hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return
    for message in error.messages:
        messages.error(request, message)


# -- the partner's public pages and the customer portal -------------------------------------


class HomeView(PartnerMixin, TemplateView):
    """The portal's front door: staff go to the workspace; customers see their home."""

    def get(self, request, *args, **kwargs):
        if getattr(request, "membership", None):
            return redirect("staff:dashboard")
        return super().get(request, *args, **kwargs)

    def get_template_names(self):
        if getattr(self.request, "contact", None):
            return ["portal/customer_home.html"]
        return ["portal/landing.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(selectors.support_offering(partner=self.partner))
        return context


class SupportOfferingView(PartnerMixin, TemplateView):
    """What support the partner offers, its hours, how to reach it and what it costs."""

    template_name = "portal/support_offering.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(selectors.support_offering(partner=self.partner))
        return context


class LogoView(PartnerMixin, View):
    def get(self, request):
        if not self.partner.logo:
            raise Http404
        response = FileResponse(self.partner.logo.open("rb"))
        response["Cache-Control"] = "public, max-age=300"
        return response


class CompanyUsersView(CustomerMixin, TemplateView):
    """A customer admin's colleagues on the portal, and invitations for more."""

    admin_only = True
    template_name = "portal/company_users.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["contacts"] = selectors.customer_contacts(
            partner=self.partner, customer=self.customer
        )
        context["invitations"] = selectors.open_invitations(
            partner=self.partner, customer=self.customer
        )
        context.setdefault("form", ContactInvitationForm())
        return context

    def post(self, request):
        form = ContactInvitationForm(request.POST)
        if form.is_valid():
            try:
                services.invitation_create_contact(
                    partner=self.partner,
                    customer=self.customer,
                    email=form.cleaned_data["email"],
                    contact_role=form.cleaned_data["contact_role"],
                    invited_by=request.user,
                )
            except ValidationError as error:
                _form_errors_to_messages(request, error, form)
            else:
                messages.success(request, _("Invitation sent to %(email)s.") % form.cleaned_data)
                return redirect("portal:company-users")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ProfileView(PartnerMixin, TemplateView):
    template_name = "accounts/profile.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?next={request.path}")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", ProfileForm(instance=self.request.user))
        return context

    def post(self, request):
        form = ProfileForm(request.POST, instance=request.user)
        if form.is_valid():
            form.save()
            messages.success(request, _("Your profile was saved."))
            return redirect("accounts:profile")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class InvitationAcceptView(PartnerMixin, TemplateView):
    template_name = "accounts/invitation_accept.html"

    def dispatch(self, request, *args, **kwargs):
        if getattr(request, "partner", None) is None:
            raise Http404
        invitation = (
            Invitation.objects.for_partner(request.partner).filter(token=kwargs["token"]).first()
        )
        if invitation is None:
            raise Http404(_("Unknown invitation"))
        self.invitation = invitation
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["invitation"] = self.invitation
        context.setdefault("form", AcceptInvitationForm(email=self.invitation.email))
        return context

    def post(self, request, token):
        user = request.user if request.user.is_authenticated else None
        form = None
        try:
            if user is None:
                form = AcceptInvitationForm(request.POST, email=self.invitation.email)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(form=form), status=400)
                user = services.invitation_accept(
                    invitation=self.invitation,
                    user=None,
                    full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["password"],
                )
                from allauth.account.utils import perform_login

                perform_login(request, user)
            else:
                services.invitation_accept(invitation=self.invitation, user=user)
        except ValidationError as error:
            _form_errors_to_messages(request, error)
            return redirect("accounts:invitation-accept", token=token)
        messages.success(
            request, _("Welcome to %(partner)s.") % {"partner": self.partner.display_name}
        )
        return HttpResponseRedirect(reverse("portal:home"))


# -- the staff workspace -----------------------------------------------------------------------


class DashboardView(StaffMixin, TemplateView):
    """The workspace home: every staff role has one, showing what that role may see."""

    capability = ANY_STAFF
    template_name = "staff/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.membership.allows(Capability.CUSTOMERS_VIEW):
            context["customer_count"] = Customer.objects.for_partner(self.partner).count()
        if self.membership.allows(Capability.PEOPLE_MANAGE):
            context["staff_count"] = (
                Membership.objects.for_partner(self.partner).filter(is_active=True).count()
            )
        return context


class CustomerListView(StaffMixin, TemplateView):
    capability = Capability.CUSTOMERS_VIEW
    template_name = "staff/customer_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        search = self.request.GET.get("q", "").strip()[:100]
        status = self.request.GET.get("status", "")
        if status not in Customer.Status.values:
            status = ""
        customers = selectors.customer_list(partner=self.partner, search=search, status=status)
        context["page"] = Paginator(customers, 25).get_page(self.request.GET.get("page"))
        context["search"] = search
        context["status"] = status
        context["statuses"] = Customer.Status.choices
        # The pager's links keep the search and the status filter.
        context["query"] = urlencode({k: v for k, v in (("q", search), ("status", status)) if v})
        return context


class CustomerDetailView(StaffMixin, TemplateView):
    capability = Capability.CUSTOMERS_VIEW
    template_name = "staff/customer_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        customer = self.get_object_or_404(Customer, pk=self.kwargs["customer_id"])
        context["customer"] = customer
        context["contacts"] = selectors.customer_contacts(partner=self.partner, customer=customer)
        context["invitations"] = selectors.open_invitations(partner=self.partner, customer=customer)
        context.setdefault("invite_form", ContactInvitationForm())
        context["contact_roles"] = ContactRole.choices
        return context


class CustomerEditView(StaffMixin, TemplateView):
    """Create a customer (no id) or edit one."""

    capability = Capability.CUSTOMERS_EDIT
    template_name = "staff/customer_form.html"

    def get_customer(self):
        customer_id = self.kwargs.get("customer_id")
        if customer_id is None:
            return Customer(partner=self.partner)
        return self.get_object_or_404(Customer, pk=customer_id)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        customer = kwargs.get("customer") or self.get_customer()
        context["customer"] = customer
        context.setdefault("form", CustomerForm(instance=customer, partner=self.partner))
        return context

    def post(self, request, **kwargs):
        customer = self.get_customer()
        form = CustomerForm(request.POST, instance=customer, partner=self.partner)
        if form.is_valid():
            customer = form.save()
            messages.success(request, _("Customer saved."))
            return redirect("staff:customer-detail", customer_id=customer.pk)
        return self.render_to_response(
            self.get_context_data(form=form, customer=customer), status=400
        )


class CustomerInviteView(StaffMixin, View):
    capability = Capability.PEOPLE_MANAGE

    def post(self, request, customer_id):
        customer = self.get_object_or_404(Customer, pk=customer_id)
        form = ContactInvitationForm(request.POST)
        if form.is_valid():
            try:
                services.invitation_create_contact(
                    partner=self.partner,
                    customer=customer,
                    email=form.cleaned_data["email"],
                    contact_role=form.cleaned_data["contact_role"],
                    invited_by=request.user,
                )
            except ValidationError as error:
                _form_errors_to_messages(request, error)
            else:
                messages.success(request, _("Invitation sent to %(email)s.") % form.cleaned_data)
        else:
            for field, errors in form.errors.items():
                messages.error(request, f"{form.fields[field].label}: {' '.join(errors)}")
        return redirect("staff:customer-detail", customer_id=customer.pk)


class ContactEditView(StaffMixin, View):
    capability = Capability.PEOPLE_MANAGE

    def post(self, request, contact_id):
        contact = self.get_object_or_404(CustomerContact, pk=contact_id)
        role = request.POST.get("role", contact.role)
        if role not in ContactRole.values:
            messages.error(request, _("Unknown role."))
        else:
            services.contact_update(
                contact=contact,
                role=role,
                is_active=request.POST.get("is_active") == "on",
                acting_user=request.user,
            )
            messages.success(request, _("Contact saved."))
        return redirect("staff:customer-detail", customer_id=contact.customer_id)


class TeamView(StaffMixin, TemplateView):
    capability = Capability.PEOPLE_MANAGE
    template_name = "staff/team.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["members"] = selectors.staff_list(partner=self.partner)
        context["invitations"] = selectors.open_invitations(partner=self.partner)
        context.setdefault("form", StaffInvitationForm())
        return context

    def post(self, request):
        form = StaffInvitationForm(request.POST)
        if form.is_valid():
            try:
                services.invitation_create_staff(
                    partner=self.partner,
                    email=form.cleaned_data["email"],
                    roles=form.cleaned_data["roles"],
                    invited_by=request.user,
                )
            except ValidationError as error:
                _form_errors_to_messages(request, error, form)
            else:
                messages.success(request, _("Invitation sent to %(email)s.") % form.cleaned_data)
                return redirect("staff:team")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class MembershipEditView(StaffMixin, TemplateView):
    capability = Capability.PEOPLE_MANAGE
    template_name = "staff/membership_form.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        member = self.get_object_or_404(
            Membership.objects.select_related("user"), pk=self.kwargs["membership_id"]
        )
        context["member"] = member
        context.setdefault(
            "form", MembershipForm(initial={"roles": member.roles, "is_active": member.is_active})
        )
        return context

    def post(self, request, membership_id):
        member = self.get_object_or_404(Membership, pk=membership_id)
        form = MembershipForm(request.POST)
        if form.is_valid():
            try:
                services.membership_update(
                    membership=member,
                    roles=form.cleaned_data["roles"],
                    is_active=form.cleaned_data["is_active"],
                    acting_user=request.user,
                )
            except ValidationError as error:
                _form_errors_to_messages(request, error, form)
            else:
                messages.success(request, _("Roles saved."))
                return redirect("staff:team")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class InvitationRevokeView(StaffMixin, View):
    capability = Capability.PEOPLE_MANAGE

    def post(self, request, invitation_id):
        invitation = self.get_object_or_404(Invitation, pk=invitation_id)
        services.invitation_revoke(invitation=invitation, acting_user=request.user)
        messages.success(
            request, _("Invitation to %(email)s revoked.") % {"email": invitation.email}
        )
        if invitation.customer_id:
            return redirect("staff:customer-detail", customer_id=invitation.customer_id)
        return redirect("staff:team")


class SettingsView(StaffMixin, TemplateView):
    """Branding and the published support offering's summary (global admins)."""

    capability = Capability.PARTNER_MANAGE
    template_name = "staff/settings.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", BrandingForm(instance=self.partner))
        return context

    def post(self, request):
        # A fresh copy: an invalid form must not repaint this page with unsaved values.
        form = BrandingForm(
            request.POST, request.FILES, instance=Partner.objects.get(pk=self.partner.pk)
        )
        if form.is_valid():
            form.save()
            messages.success(request, _("Settings saved."))
            return redirect("staff:settings")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class SupportOfferingSettingsView(StaffMixin, TemplateView):
    """Global admins edit what the public support page states."""

    capability = Capability.PARTNER_MANAGE
    template_name = "staff/support_offering_form.html"

    def _formsets(self, data=None):
        return {
            name: formset_class(data, partner=self.partner, prefix=name)
            for name, formset_class in OFFERING_FORMSETS.items()
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("formsets", self._formsets())
        return context

    def post(self, request):
        formsets = self._formsets(request.POST)
        if all(formset.is_valid() for formset in formsets.values()):
            services.support_offering_update(partner=self.partner, formsets=formsets.values())
            messages.success(request, _("Your support offering was published."))
            return redirect("staff:support-offering")
        messages.error(request, _("Nothing was saved: please correct the rows marked below."))
        return self.render_to_response(self.get_context_data(formsets=formsets), status=400)
