"""Pages of tickets: the customer's requests on the partner's portal and the agents'
workspace. Thin: validate, call one service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from csp_portal.accounts.access import CustomerMixin, StaffMixin
from csp_portal.accounts.models import Customer, CustomerContact
from csp_portal.accounts.roles import Capability
from csp_portal.accounts.selectors import support_offering
from csp_portal.paging import CountedPaginator, UncountedPage

from . import selectors, services
from .forms import (
    CannedResponseForm,
    IntakeForm,
    MergeForm,
    PropertiesForm,
    RateForm,
    ReplyForm,
    RequestForm,
    StaffReplyForm,
)
from .models import CannedResponse, Ticket, TicketAttachment
from .rendering import fill_placeholders, placeholder_values
from .sla_selectors import response_targets
from .subscriptions import customer_subscriptions


def _errors_to_messages(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _download(attachment: TicketAttachment) -> FileResponse:
    """Always a download, never rendered by the browser."""
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# -- the customer portal ------------------------------------------------------------------


class RequestMixin(CustomerMixin):
    def visible_tickets(self):
        return selectors.tickets_for_contact(partner=self.partner, contact=self.contact)

    def get_ticket(self):
        try:
            return selectors.ticket_detail(
                partner=self.partner,
                ticket_id=self.kwargs["ticket_id"],
                include_internal=False,
                tickets=self.visible_tickets(),
            )
        except Ticket.DoesNotExist as error:
            raise Http404(_("No such request")) from error


class RequestListView(RequestMixin, TemplateView):
    template_name = "tickets/portal/request_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tickets = self.visible_tickets()
        context["page"] = Paginator(tickets, 25).get_page(self.request.GET.get("page"))
        return context


class RequestCreateView(RequestMixin, TemplateView):
    template_name = "tickets/portal/request_form.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(support_offering(partner=self.partner))
        context["response_targets"] = response_targets(partner=self.partner)
        context.setdefault("form", self._form())
        return context

    def _form(self, *args):
        subscriptions = customer_subscriptions(partner=self.partner, customer=self.customer)
        return RequestForm(*args, subscriptions=subscriptions)

    def post(self, request, **kwargs):
        form = self._form(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.ticket_create(
                    partner=self.partner,
                    customer=self.customer,
                    requester=request.user,
                    kind=data["kind"],
                    product=data["product"],
                    subject=data["subject"],
                    body=data["body"],
                    impact=data["impact"],
                    urgency=data["urgency"],
                    channel=Ticket.Channel.PORTAL,
                    attachments=data["attachments"],
                    acting_user=request.user,
                    subscription_ref=data.get("subscription", ""),
                )
            except ValidationError as error:
                if hasattr(error, "error_dict") and "subscription" in error.error_dict:
                    form.add_error("subscription", error.error_dict["subscription"])
                else:
                    form.add_error("attachments", error)
            else:
                messages.success(
                    request, _("Request %(ref)s was sent.") % {"ref": ticket.reference}
                )
                return redirect("requests:request-detail", ticket_id=ticket.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class RequestDetailView(RequestMixin, TemplateView):
    template_name = "tickets/portal/request_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["ticket"] = kwargs.get("ticket") or self.get_ticket()
        context.setdefault("form", ReplyForm())
        context["rate_form"] = RateForm()
        return context

    def post(self, request, **kwargs):
        ticket = self.get_ticket()
        form = ReplyForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.ticket_reply(
                    ticket=ticket,
                    author=request.user,
                    body=form.cleaned_data["body"],
                    public=True,
                    attachments=form.cleaned_data["attachments"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Your reply was sent."))
                return redirect("requests:request-detail", ticket_id=ticket.pk)
        return self.render_to_response(self.get_context_data(form=form, ticket=ticket), status=400)


class RequestStatusView(RequestMixin, View):
    """Close or reopen one's request."""

    def post(self, request, **kwargs):
        ticket = self.get_ticket()
        action = request.POST.get("action")
        service = {"close": services.ticket_close, "reopen": services.ticket_reopen}.get(action)
        if service is None:
            messages.error(request, _("Unknown action."))
        else:
            try:
                service(ticket=ticket, acting_user=request.user)
            except ValidationError as error:
                _errors_to_messages(request, error)
        return redirect("requests:request-detail", ticket_id=ticket.pk)


class RequestRateView(RequestMixin, View):
    def post(self, request, **kwargs):
        ticket = self.get_ticket()
        form = RateForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a rating from 1 to 5."))
        else:
            try:
                services.ticket_rate(
                    ticket=ticket,
                    score=form.cleaned_data["score"],
                    comment=form.cleaned_data["comment"],
                    acting_user=request.user,
                )
            except ValidationError as error:
                _errors_to_messages(request, error)
            else:
                messages.success(request, _("Thank you for your rating."))
        return redirect("requests:request-detail", ticket_id=ticket.pk)


class RequestAttachmentView(RequestMixin, View):
    def get(self, request, attachment_id):
        try:
            attachment = selectors.attachment_for_contact(
                partner=self.partner, contact=self.contact, attachment_id=attachment_id
            )
        except TicketAttachment.DoesNotExist as error:
            raise Http404(_("No such file")) from error
        return _download(attachment)


# -- the agent workspace ------------------------------------------------------------------


class TicketStaffMixin(StaffMixin):
    capability = Capability.TICKETS_READ

    @property
    def can_work(self) -> bool:
        return self.staff_allows(Capability.TICKETS_WORK)

    def require_work(self):
        if not self.can_work:
            raise PermissionDenied

    def get_ticket(self, include_internal=None):
        if include_internal is None:
            include_internal = self.can_work
        try:
            return selectors.ticket_detail(
                partner=self.partner,
                ticket_id=self.kwargs["ticket_id"],
                include_internal=include_internal,
            )
        except Ticket.DoesNotExist as error:
            raise Http404(_("No such ticket")) from error


class TicketListView(TicketStaffMixin, TemplateView):
    template_name = "tickets/staff/ticket_list.html"
    FILTERS = ("status", "priority", "kind", "product", "customer", "customer_name", "assignee")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        get = self.request.GET
        view = get.get("view", selectors.DEFAULT_VIEW)
        view = view if view in selectors.VIEWS else selectors.DEFAULT_VIEW
        sort = get.get("sort", selectors.DEFAULT_SORT)
        sort = sort if sort in selectors.SORTS else selectors.DEFAULT_SORT
        filters = {name: get.get(name, "").strip()[:200] for name in self.FILTERS}
        if not filters["customer"].isdigit():
            filters["customer"] = ""
        if filters["assignee"] not in ("", "none") and not filters["assignee"].isdigit():
            filters["assignee"] = ""
        search = get.get("q", "").strip()[:200]
        arguments = {
            "partner": self.partner,
            "user": self.request.user,
            "view": view,
            "filters": filters,
            "sort": sort,
            "search": search,
        }
        counts = selectors.ticket_counts(partner=self.partner, user=self.request.user)
        # A view as counted needs no second count to number its pages.
        known = (
            counts[view]
            if selectors.view_is_counted(view=view, filters=filters, search=search)
            else None
        )
        query = get.copy()
        query.pop("page", None)
        if search:
            page = UncountedPage(selectors.SearchResults(**arguments), get.get("page"), 25)
        else:
            # A view as opened (counted, no filter) is read by its compiled statement.
            rows = (
                selectors.ViewRows(
                    partner=self.partner, user=self.request.user, view=view, sort=sort
                )
                if known is not None and view not in selectors.TIMED_VIEWS
                else selectors.ticket_list_rows(**arguments)
            )
            page = CountedPaginator(rows, 25, count=known).get_page(get.get("page"))
        context.update(
            page=page,
            views=[(name, label, counts[name]) for name, (label, _c) in selectors.VIEWS.items()],
            view=view,
            sort=sort,
            sorts=[(name, name) for name in selectors.SORTS],
            filters=filters,
            search=search,
            querystring=query.urlencode(),
            statuses=Ticket.Status.choices,
            priorities=Ticket.Priority.choices,
            kinds=Ticket.Kind.choices,
            products=Ticket.Product.choices,
            # The customer filter is a type-ahead (customer-suggest), not a list of every
            # customer; a filter by id (a link from elsewhere) shows the one name.
            chosen_customer=Customer.objects.for_partner(self.partner)
            .filter(pk=filters["customer"])
            .only("pk", "company_name")
            .first()
            if filters["customer"]
            else None,
            staff=selectors.assignee_choices(partner=self.partner),
            can_work=self.can_work,
        )
        return context

    def post(self, request, **kwargs):
        """Bulk assign or close the selected tickets."""
        self.require_work()
        ids = [i for i in request.POST.getlist("tickets") if i.isdigit()]
        tickets = list(Ticket.objects.for_partner(self.partner).filter(pk__in=ids))
        action = request.POST.get("action")
        assignee = None
        if action == "assign":
            staff = {
                str(m.user_id): m.user for m in selectors.assignable_staff(partner=self.partner)
            }
            assignee = staff.get(request.POST.get("assignee", ""))
            if assignee is None:
                messages.error(request, _("Choose a colleague to assign to."))
                return redirect(request.get_full_path())
        done = 0
        for ticket in tickets:
            try:
                if action == "assign":
                    services.ticket_change(
                        ticket=ticket, acting_user=request.user, assignee=assignee
                    )
                elif action == "close":
                    services.ticket_close(ticket=ticket, acting_user=request.user)
                else:
                    break
                done += 1
            except ValidationError as error:
                messages.warning(request, f"{ticket.reference}: {' '.join(error.messages)}")
        messages.success(request, _("%(count)d tickets updated.") % {"count": done})
        return redirect(request.get_full_path())


class CustomerSuggestView(TicketStaffMixin, View):
    """The ticket list's customer type-ahead: up to ten of the partner's customer names
    containing what was typed."""

    LIMIT = 10

    def get(self, request):
        typed = request.GET.get("q", "").strip()[:100]
        names = (
            list(
                Customer.objects.for_partner(self.partner)
                .filter(company_name__icontains=typed)
                .order_by("company_name")
                .values_list("company_name", flat=True)[: self.LIMIT]
            )
            if len(typed) >= 2
            else []
        )
        return JsonResponse({"results": names})


class TicketCreateView(TicketStaffMixin, TemplateView):
    """An agent opens a ticket on a customer's behalf."""

    capability = Capability.TICKETS_WORK
    template_name = "tickets/staff/ticket_form.html"

    def make_form(self, *args):
        return IntakeForm(
            *args,
            customers=Customer.objects.for_partner(self.partner).order_by("company_name"),
            contacts=CustomerContact.objects.for_partner(self.partner)
            .filter(is_active=True)
            .select_related("user", "customer"),
            initial={"customer": self.request.GET.get("customer")},
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", self.make_form())
        return context

    def post(self, request, **kwargs):
        form = self.make_form(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.ticket_create(
                    partner=self.partner,
                    customer=data["customer"],
                    requester=data["requester"].user if data["requester"] else None,
                    kind=data["kind"],
                    product=data["product"],
                    subject=data["subject"],
                    body=data["body"],
                    priority=data["priority"],
                    channel=data["channel"],
                    attachments=data["attachments"],
                    acting_user=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Ticket %(ref)s opened.") % {"ref": ticket.reference})
                return redirect("tickets:ticket-detail", ticket_id=ticket.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class TicketDetailView(TicketStaffMixin, TemplateView):
    template_name = "tickets/staff/ticket_detail.html"
    # The customer panel lists this many of the customer's subscriptions and counts the rest.
    SUBSCRIPTIONS_SHOWN = 10

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ticket = kwargs.get("ticket") or self.get_ticket()
        staff = selectors.assignee_choices(partner=self.partner)
        values = placeholder_values(ticket=ticket, agent=self.request.user)
        subscriptions = customer_subscriptions(partner=self.partner, customer=ticket.customer)
        # Those not active first: a suspended subscription is what the agent needs to see.
        subscriptions.sort(key=lambda option: option.status == "active")
        context.update(
            ticket=ticket,
            can_work=self.can_work,
            contacts=selectors.customer_contacts(partner=self.partner, customer=ticket.customer),
            subscriptions=subscriptions[: self.SUBSCRIPTIONS_SHOWN],
            subscriptions_more=max(len(subscriptions) - self.SUBSCRIPTIONS_SHOWN, 0),
            properties_form=PropertiesForm(
                staff=staff,
                initial={
                    "status": ticket.status,
                    "priority": ticket.priority,
                    "assignee": ticket.assignee_id or "",
                    "tags": ", ".join(ticket.tags),
                },
            ),
            merge_form=MergeForm(),
            canned=[
                (c.title, fill_placeholders(c.body, values))
                for c in selectors.canned_response_choices(partner=self.partner)
            ],
        )
        context.setdefault("form", StaffReplyForm())
        return context

    def post(self, request, **kwargs):
        ticket = self.get_ticket()
        self.require_work()
        form = StaffReplyForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.ticket_reply(
                    ticket=ticket,
                    author=request.user,
                    body=data["body"],
                    public=data["visibility"] == "public",
                    attachments=data["attachments"],
                    status=data["status"] or None,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Saved."))
                return redirect("tickets:ticket-detail", ticket_id=ticket.pk)
        return self.render_to_response(self.get_context_data(form=form, ticket=ticket), status=400)


class TicketUpdateView(TicketStaffMixin, View):
    """The properties panel: status, priority, assignee, tags."""

    def post(self, request, ticket_id):
        ticket = self.get_object_or_404(Ticket, pk=ticket_id)
        self.require_work()
        members = list(selectors.assignable_staff(partner=self.partner))
        staff = {str(m.user_id): m.user for m in members}
        form = PropertiesForm(request.POST, staff=selectors.as_assignees(members))
        if not form.is_valid():
            for field, errors in form.errors.items():
                messages.error(request, f"{field}: {' '.join(errors)}")
            return redirect("tickets:ticket-detail", ticket_id=ticket.pk)
        data = form.cleaned_data
        try:
            services.ticket_change(
                ticket=ticket,
                acting_user=request.user,
                status=data["status"],
                priority=data["priority"],
                assignee=staff.get(data["assignee"]) or False,
                tags=data["tags"],
            )
        except ValidationError as error:
            _errors_to_messages(request, error)
        else:
            messages.success(request, _("Ticket updated."))
        return redirect("tickets:ticket-detail", ticket_id=ticket.pk)


class TicketMergeView(TicketStaffMixin, View):
    def post(self, request, ticket_id):
        source = self.get_object_or_404(Ticket, pk=ticket_id)
        self.require_work()
        form = MergeForm(request.POST)
        target = None
        if form.is_valid():
            value = form.cleaned_data["target"].strip().upper()
            number = value.rsplit("-", 1)[-1]
            if number.isdigit():
                target = Ticket.objects.for_partner(self.partner).filter(number=int(number)).first()
        if target is None:
            messages.error(request, _("No ticket with that number here."))
            return redirect("tickets:ticket-detail", ticket_id=source.pk)
        try:
            services.ticket_merge(source=source, target=target, acting_user=request.user)
        except ValidationError as error:
            _errors_to_messages(request, error)
            return redirect("tickets:ticket-detail", ticket_id=source.pk)
        messages.success(
            request,
            _("%(source)s was merged into %(target)s.")
            % {"source": source.reference, "target": target.reference},
        )
        return redirect("tickets:ticket-detail", ticket_id=target.pk)


class AttachmentView(TicketStaffMixin, View):
    def get(self, request, attachment_id):
        try:
            attachment = selectors.attachment_for_staff(
                partner=self.partner, attachment_id=attachment_id, include_internal=self.can_work
            )
        except TicketAttachment.DoesNotExist as error:
            raise Http404(_("No such file")) from error
        return _download(attachment)


class CannedResponseListView(TicketStaffMixin, TemplateView):
    template_name = "tickets/staff/canned_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["responses"] = selectors.canned_responses(partner=self.partner)
        context.setdefault("form", CannedResponseForm())
        context["can_work"] = self.can_work
        return context

    def get_instance(self):
        return CannedResponse(partner=self.partner, created_by=self.request.user)

    def post(self, request, **kwargs):
        instance = self.get_instance()
        self.require_work()
        if request.POST.get("action") == "delete" and instance.pk:
            CannedResponse.objects.for_partner(self.partner).filter(pk=instance.pk).delete()
            messages.success(request, _("Canned response deleted."))
            return redirect("tickets:canned-list")
        form = CannedResponseForm(request.POST, instance=instance)
        if form.is_valid():
            taken = (
                CannedResponse.objects.for_partner(self.partner)
                .filter(title=form.cleaned_data["title"])
                .exclude(pk=instance.pk)
            )
            if taken.exists():
                form.add_error("title", _("A canned response with this title exists."))
            else:
                form.save()
                messages.success(request, _("Canned response saved."))
                return redirect("tickets:canned-list")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class CannedResponseEditView(CannedResponseListView):
    template_name = "tickets/staff/canned_edit.html"

    def get_instance(self):
        return self.get_object_or_404(CannedResponse, pk=self.kwargs["canned_id"])

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", CannedResponseForm(instance=self.get_instance()))
        return super().get_context_data(**kwargs)
