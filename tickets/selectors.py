"""Reads of tickets. Each owns its joins, so a page's query count is decided here and does
not grow with the number of tickets or messages."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import NamedTuple

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchRank
from django.db.models import BigIntegerField, Count, F, Lookup, Q, QuerySet, Sum, Value
from django.utils import timezone

from csp_portal.accounts.models import CustomerContact, Membership
from csp_portal.compiled import CompiledRead

from .models import (
    CannedResponse,
    Ticket,
    TicketAttachment,
    TicketEvent,
    TicketMessage,
    TicketStatusCount,
    running_clock_due,
)
from .search import scope_word, search_query
from .sla_selectors import SOON, breached, breaching_soon

Status = Ticket.Status
WAITING_EXTERNAL = [Status.WAITING_ON_MICROSOFT, Status.WAITING_ON_PROVIDER]

# The workspace's views: name -> (label, filter given the viewer's user id).
VIEWS = {
    "unassigned": ("Unassigned", lambda uid: Q(assignee__isnull=True, status__in=Ticket.OPEN_STATUSES)),
    "mine": ("Mine", lambda uid: Q(assignee_id=uid, status__in=Ticket.OPEN_STATUSES)),
    "waiting_on_customer": ("Waiting on customer", lambda uid: Q(status=Status.WAITING_ON_CUSTOMER)),
    "waiting_on_microsoft": ("Waiting on Microsoft / provider", lambda uid: Q(status__in=WAITING_EXTERNAL)),
    "breaching_soon": ("Breaching SLA within the hour", lambda uid: breaching_soon()),
    "sla_breached": ("SLA overdue", lambda uid: breached()),
    "all_open": ("All open", lambda uid: Q(status__in=Ticket.OPEN_STATUSES)),
    "resolved": ("Resolved", lambda uid: Q(status=Status.RESOLVED)),
    "closed": ("Closed", lambda uid: Q(status=Status.CLOSED)),
    "all": ("All", lambda uid: Q()),
}  # fmt: skip
DEFAULT_VIEW = "all_open"

SORTS = {
    "updated": "-updated_at",
    "-updated": "updated_at",
    "created": "-created_at",
    "-created": "created_at",
    "number": "-number",
    "-number": "number",
    "priority": "priority_rank",
    "status": "status",
    "customer": "customer__company_name",
    "sla": "resolution_due_at",
}
DEFAULT_SORT = "updated"
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


def _priority_rank():
    from django.db.models import Case, IntegerField, Value, When

    return Case(
        *[When(priority=p, then=Value(r)) for p, r in PRIORITY_RANK.items()],
        output_field=IntegerField(),
    )


def _conditions(*, user, view: str, filters: dict) -> Q:
    """A view's condition with the list's filters (status, priority, kind, product, customer,
    assignee — "none" for unassigned). `user` may be None for a view that does not name the
    viewer; it may be a user id."""
    condition = VIEWS.get(view, VIEWS[DEFAULT_VIEW])[1](getattr(user, "pk", user))
    for field in ("status", "priority", "kind", "product"):
        if filters.get(field):
            condition &= Q(**{field: filters[field]})
    if filters.get("customer"):
        condition &= Q(customer_id=filters["customer"])
    if filters.get("customer_name"):
        condition &= Q(customer__company_name__icontains=filters["customer_name"])
    if filters.get("assignee") == "none":
        condition &= Q(assignee__isnull=True)
    elif filters.get("assignee"):
        condition &= Q(assignee_id=filters["assignee"])
    return condition


def _ordering(sort: str, search: str) -> list[str]:
    if search and sort == DEFAULT_SORT:
        return ["-rank", "-updated_at", "-pk"]
    return [SORTS.get(sort, SORTS[DEFAULT_SORT]), "-pk"]


def ticket_list(
    *,
    partner,
    user,
    view: str = DEFAULT_VIEW,
    filters: dict | None = None,
    sort: str = DEFAULT_SORT,
    search: str = "",
) -> QuerySet[Ticket]:
    """The workspace's ticket list for a view, filters (status, priority, kind, product,
    customer, assignee — "none" for unassigned), a sort key and a full-text search."""
    tickets = (
        Ticket.objects.for_partner(partner)
        .select_related("customer", "assignee", "requester")
        .filter(_conditions(user=user, view=view, filters=filters or {}))
        .annotate(priority_rank=_priority_rank())
    )
    if search:
        query = search_query(partner.pk, search)
        tickets = tickets.filter(search_vector=query).annotate(
            rank=SearchRank(F("search_vector"), query)
        )
    return tickets.order_by(*_ordering(sort, search))


# The columns a row of the workspace's list draws (its SLA clock included): not the search
# vector, the requester, the CSAT comment or the rest of every row.
LIST_ROW_FIELDS = (
    "partner",
    "reference",
    "subject",
    "kind",
    "product",
    "status",
    "priority",
    "updated_at",
    "first_response_at",
    "first_response_due_at",
    "resolution_due_at",
    "resolution_seconds_left",
    "customer__company_name",
    "assignee__full_name",
    "assignee__email",
)


def _as_rows(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Tickets read with only what a row of the workspace's list shows."""
    return (
        tickets.select_related(None).select_related("customer", "assignee").only(*LIST_ROW_FIELDS)
    )


def ticket_list_rows(**arguments) -> QuerySet[Ticket]:
    """`ticket_list` reading only what the workspace's list page shows of each ticket."""
    return _as_rows(ticket_list(**arguments))


# The views whose tickets change with the clock: their condition holds the time it is read.
TIMED_VIEWS = {"breaching_soon", "sla_breached"}


class ViewRows:
    """A view's list with no filter and no search (the list as an agent opens it), read a
    page at a time (`rows[offset:end]`) by a statement compiled once per process for each
    view, sort and page: building the list's queryset took the ORM longer than PostgreSQL
    took to run it. The same rows as `ticket_list_rows` in the same order; the count is the
    view's (`ticket_counts`). Not for the clock's views (`TIMED_VIEWS`)."""

    def __init__(self, *, partner, user, view: str, sort: str):
        if view in TIMED_VIEWS:
            raise ValueError(f"{view} changes with the clock: read it with ticket_list_rows")
        self._partner, self._user, self._view, self._sort = partner, user, view, sort

    def __getitem__(self, window: slice) -> list[Ticket]:
        start, stop = window.start or 0, window.stop
        if stop is not None and stop <= start:  # an empty view's first page
            return []
        read = _compiled_view_page(self._view, self._sort, start, stop)
        values = {"partner": self._partner}
        if self._view == "mine":
            values["user"] = self._user
        return read.objects(**values)


@functools.lru_cache(maxsize=256)
def _compiled_view_page(view: str, sort: str, start: int, stop: int) -> CompiledRead:
    def build(*, partner, user=None):
        rows = ticket_list_rows(partner=partner, user=user, view=view, filters={}, sort=sort)
        return rows[start:stop]

    # Only "mine" names the viewer; a marker the statement does not carry is refused.
    viewer = {"user": -2} if view == "mine" else {}
    return CompiledRead(build, partner=-1, **viewer)


class SearchResults:
    """The workspace's search results, read a page at a time (`results[offset:end]`).

    A page is two statements. The first ranks, sorts and slices the matches on the ticket
    table alone and returns their ids; the second reads those tickets with their customer and
    assignee. Joining every match before sorting cost as much again as the search itself.
    Among the matches, the partner is checked on each matched row (`for_partner_by_row`):
    the GIN index already narrows the scan to the partner's rows (`search.scope_word`), and a
    partner index would add an intersection with all of the partner's tickets (5 ms at
    50,000 tickets). The tickets are then read through `for_partner`, and row-level security
    applies to both."""

    def __init__(self, *, partner, user, view, filters, sort, search):
        self._search = {
            "partner": partner,
            "user": user,
            "view": view,
            "filters": filters,
            "sort": sort,
            "typed": search,
        }
        # A search with no filter in a view that depends on neither the viewer nor the clock
        # (nearly every search) runs a statement compiled once per process.
        self._compiled = not any(filters.values()) and view not in PERSONAL_OR_TIMED_VIEWS

    def __getitem__(self, window: slice) -> list[Ticket]:
        search = self._search
        if self._compiled:
            read = _compiled_search(search["view"], search["sort"], window.start, window.stop)
            partner = search["partner"]
            rows = read.rows(partner=partner, word=scope_word(partner.pk), typed=search["typed"])
            ids = [pk for (pk,) in rows]
        else:
            ids = list(_search_matches(**search)[window])
        if not ids:
            return []
        partner = search["partner"]
        found = {ticket.pk: ticket for ticket in _ROWS_BY_ID.objects(partner=partner, ids=ids)}
        return [found[pk] for pk in ids if pk in found]


def _search_matches(*, partner, user, view, filters, sort, typed) -> QuerySet:
    """The ids of the partner's tickets that match `typed` in a view, ranked and sorted."""
    query = search_query(getattr(partner, "pk", partner), typed)
    return (
        Ticket.objects.for_partner_by_row(partner)
        .filter(search_vector=query)
        .filter(_conditions(user=user, view=view, filters=filters))
        .alias(rank=SearchRank(F("search_vector"), query), priority_rank=_priority_rank())
        .order_by(*_ordering(sort, typed))
        .values_list("pk", flat=True)
    )


@functools.lru_cache(maxsize=256)
def _compiled_search(view: str, sort: str, start: int, stop: int) -> CompiledRead:
    """One page window of an unfiltered search in a view, compiled on first use."""

    def build(*, partner, word, typed):
        matches = _search_matches(
            partner=partner, user=None, view=view, filters={}, sort=sort, typed=typed
        )
        return matches[start:stop]

    return CompiledRead(build, partner=-1, word=scope_word(-1), typed="\x00typed")


class _AnyOf(Lookup):
    """`column = ANY(array)`: membership in a list given as one array parameter, so the
    statement does not change with the list's length (an `IN` list does)."""

    lookup_name = "any_of"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)


def _rows_by_id(*, partner, ids: list[int]) -> QuerySet[Ticket]:
    """The partner's tickets whose ids are in `ids`, as the list draws them."""
    ids = Value(ids, output_field=ArrayField(BigIntegerField()))
    return _as_rows(Ticket.objects.for_partner(partner)).filter(_AnyOf(F("pk"), ids))


_ROWS_BY_ID = CompiledRead(_rows_by_id, partner=-1, ids=[-1])


# The views whose counts are read from the trigger-kept counts (`TicketStatusCount`): each is
# a set of statuses, for anyone, nobody ("none") or the viewer ("mine").
OPEN = list(Ticket.OPEN_STATUSES)
KEPT_VIEWS = {
    "unassigned": (OPEN, "none"),
    "mine": (OPEN, "mine"),
    "waiting_on_customer": ([Status.WAITING_ON_CUSTOMER], "anyone"),
    "waiting_on_microsoft": (WAITING_EXTERNAL, "anyone"),
    "all_open": (OPEN, "anyone"),
    "resolved": ([Status.RESOLVED], "anyone"),
    "closed": ([Status.CLOSED], "anyone"),
    "all": (list(Status), "anyone"),
}
# The views whose tickets change with the viewer ("mine") or the clock (the SLA views).
PERSONAL_OR_TIMED_VIEWS = {
    name for name in VIEWS if name not in KEPT_VIEWS or KEPT_VIEWS[name][1] == "mine"
}


def _sla_counts(*, partner, now, soon) -> QuerySet:
    # `soon` is now + SOON, which breaching_soon() adds itself: named so it can be replaced.
    return (
        Ticket.objects.for_partner(partner)
        .filter(status__in=Ticket.OPEN_STATUSES)
        .alias(running_due=running_clock_due())
        .filter(running_due__lte=now + SOON)
        .values("partner")  # one group: the partner's
        .annotate(
            # Counted by status (never null), which the index holds, unlike the ticket id.
            breaching_soon=Count("status", filter=breaching_soon(now)),
            sla_breached=Count("status", filter=breached(now)),
        )
        .values_list("breaching_soon", "sla_breached")
    )


def _status_counts(*, partner, user) -> QuerySet:
    """Per status: all of the partner's tickets, the unassigned and the user's."""
    return (
        TicketStatusCount.objects.for_partner(partner)
        .values("status")
        .annotate(
            anyone=Sum("count"),
            none=Sum("count", filter=Q(assignee__isnull=True), default=0),
            mine=Sum("count", filter=Q(assignee_id=user), default=0),
        )
        .order_by()
        .values_list("status", "anyone", "none", "mine")
    )


# Both count statements run on every list page and take the ORM longer to build than to
# run: they are compiled once per process (csp_portal.compiled).
_COMPILED_AT = datetime(1901, 1, 1, tzinfo=UTC)  # a moment no ticket is due at
SLA_COUNTS = CompiledRead(_sla_counts, partner=-1, now=_COMPILED_AT, soon=_COMPILED_AT + SOON)
STATUS_COUNTS = CompiledRead(_status_counts, partner=-1, user=-2)


def ticket_counts(*, partner, user) -> dict[str, int]:
    """The count of every workspace view. The views of status and assignee add up the
    trigger-kept counts (a row per status and assignee); the SLA views, which change with
    the clock alone, count the open tickets whose earliest running clock is due within the
    hour or overdue (an index-only range of `ticket_sla_due_idx`). Neither grows with the
    tickets that are not in them."""
    now = timezone.now()
    rows = SLA_COUNTS.rows(partner=partner, now=now, soon=now + SOON)
    soon_count, breached_count = rows[0] if rows else (0, 0)
    counts = {"breaching_soon": soon_count, "sla_breached": breached_count}
    per_status = {
        status: {"anyone": anyone, "none": none, "mine": mine}
        for status, anyone, none, mine in STATUS_COUNTS.rows(partner=partner, user=user)
    }
    nothing = {"anyone": 0, "none": 0, "mine": 0}
    for name, (statuses, whose) in KEPT_VIEWS.items():
        counts[name] = sum(per_status.get(status, nothing)[whose] for status in statuses)
    return counts


def view_is_counted(*, view: str, filters: dict, search: str) -> bool:
    """Whether the list shows exactly a view's counted tickets (no filter, no search), so
    its count can number the pages."""
    return not search and not any(filters.values()) and view in VIEWS


def tickets_for_contact(*, partner, contact) -> QuerySet[Ticket]:
    """A customer admin sees the company's tickets; a customer user only their own."""
    tickets = Ticket.objects.for_partner(partner).filter(customer_id=contact.customer_id)
    if not contact.is_admin:
        tickets = tickets.filter(requester_id=contact.user_id)
    return tickets.select_related("requester").order_by("-updated_at", "-pk")


def _detail_ticket(tickets: QuerySet[Ticket], ticket_id) -> QuerySet[Ticket]:
    # The merged-into ticket is shown by its reference only: one column, not the row.
    return (
        tickets.select_related("customer", "requester", "assignee")
        .defer("search_vector")
        .annotate(merged_into_reference=F("merged_into__reference"))
        .filter(pk=ticket_id)
    )


def _detail_messages(*, partner, ticket, public_only: bool) -> QuerySet[TicketMessage]:
    messages = TicketMessage.objects.for_partner(partner).filter(ticket_id=ticket)
    return (messages.filter(is_public=True) if public_only else messages).select_related("author")


def _detail_attachments(*, partner, ticket, public_only: bool) -> QuerySet[TicketAttachment]:
    attachments = TicketAttachment.objects.for_partner(partner).filter(ticket_id=ticket)
    return attachments.filter(message__is_public=True) if public_only else attachments


def _detail_events(*, partner, ticket) -> QuerySet[TicketEvent]:
    return TicketEvent.objects.for_partner(partner).filter(ticket_id=ticket).select_related("actor")


# The ticket page's reads, compiled once per process (every view of a ticket runs them): the
# ticket as staff reach it, and its messages, attachments and events, with and without the
# internal notes.
_DETAIL_TICKET = CompiledRead(
    lambda partner, ticket: _detail_ticket(Ticket.objects.for_partner(partner), ticket),
    partner=-1,
    ticket=-2,
)
_DETAIL_PARTS = {
    public_only: (
        CompiledRead(
            functools.partial(_detail_messages, public_only=public_only), partner=-1, ticket=-2
        ),
        CompiledRead(
            functools.partial(_detail_attachments, public_only=public_only), partner=-1, ticket=-2
        ),
    )
    for public_only in (False, True)
}
_DETAIL_EVENTS = CompiledRead(_detail_events, partner=-1, ticket=-2)


def ticket_detail(*, partner, ticket_id, include_internal: bool, tickets=None) -> Ticket:
    """One ticket with its customer, requester and assignee, `merged_into_reference`, its
    `conversation` (the messages, internal notes only with `include_internal`, each with its
    author and its attachments as `files`) and its `timeline` (the events, each with its
    actor). `tickets`: the tickets the viewer may see (a customer's), else all the partner's.
    Raises Ticket.DoesNotExist."""
    if tickets is None:
        found = _DETAIL_TICKET.objects(partner=partner, ticket=int(ticket_id))
        if not found:
            raise Ticket.DoesNotExist(f"No ticket {ticket_id}")
        ticket = found[0]
    else:
        ticket = _detail_ticket(tickets, ticket_id).get()
    messages, attachments = _DETAIL_PARTS[not include_internal]  # keyed by "public only"
    conversation = messages.objects(partner=partner, ticket=ticket)
    files: dict[int, list[TicketAttachment]] = {}
    for attachment in attachments.objects(partner=partner, ticket=ticket):
        files.setdefault(attachment.message_id, []).append(attachment)
    for message in conversation:
        message.files = files.get(message.pk, [])
    ticket.conversation = conversation
    ticket.timeline = _DETAIL_EVENTS.objects(partner=partner, ticket=ticket)
    # Whether the conversation holds the internal notes too (readers of it, such as the
    # escalation panel's attachment list, ask).
    ticket.conversation_includes_internal = include_internal
    return ticket


def attachment_for_staff(*, partner, attachment_id, include_internal: bool) -> TicketAttachment:
    attachments = TicketAttachment.objects.for_partner(partner).select_related("message")
    if not include_internal:
        attachments = attachments.filter(message__is_public=True)
    return attachments.get(pk=attachment_id)


def attachment_for_contact(*, partner, contact, attachment_id) -> TicketAttachment:
    visible = tickets_for_contact(partner=partner, contact=contact)
    return (
        TicketAttachment.objects.for_partner(partner)
        .filter(message__is_public=True, ticket__in=visible.values("pk"))
        .get(pk=attachment_id)
    )


def assignable_staff(*, partner) -> QuerySet[Membership]:
    """Members who may work tickets (the assignee choices)."""
    from csp_portal.accounts.roles import CAPABILITY_ROLES, Capability

    roles = [str(r) for r in CAPABILITY_ROLES[Capability.TICKETS_WORK]]
    return (
        Membership.objects.for_partner(partner)
        .filter(is_active=True, roles__overlap=roles)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


class Assignee(NamedTuple):
    user_id: int
    name: str


class CannedChoice(NamedTuple):
    title: str
    body: str


def as_assignees(memberships) -> list[Assignee]:
    """Members as the assignee choices show them: (user id, name)."""
    return [Assignee(m.user_id, str(m.user)) for m in memberships]


# The names of the two lists in partner_cache (tickets.apps forgets them).
ASSIGNEE_CHOICES = "assignee-choices"
CANNED_CHOICES = "canned-choices"


def assignee_choices(*, partner) -> list[Assignee]:
    """`assignable_staff` as (user id, name) pairs for showing (the list's and ticket page's
    assignee selects), from the cache; forgotten when a membership or a user changes
    (tickets.apps). Kept as plain values: a page reads them without building a model
    instance per person. A change of assignee is checked against `assignable_staff` itself."""
    from csp_portal.accounts import partner_cache

    return partner_cache.remembered(
        partner.pk,
        ASSIGNEE_CHOICES,
        lambda: as_assignees(assignable_staff(partner=partner)),
    )


def canned_response_choices(*, partner) -> list[CannedChoice]:
    """The canned responses the ticket page offers, as (title, body) pairs, from the cache
    (forgotten when one is saved or deleted)."""
    from csp_portal.accounts import partner_cache

    return partner_cache.remembered(
        partner.pk,
        CANNED_CHOICES,
        lambda: [CannedChoice(c.title, c.body) for c in canned_responses(partner=partner)],
    )


def _customer_contacts(*, partner, customer) -> QuerySet[CustomerContact]:
    return (
        CustomerContact.objects.for_partner(partner)
        .filter(customer=customer, is_active=True)
        .select_related("user")
        .order_by("role", "user__email")  # "admin" before "user"
    )


# Read on every view of a ticket (its customer panel): compiled once per process.
_CUSTOMER_CONTACTS = CompiledRead(_customer_contacts, partner=-1, customer=-2)


def customer_contacts(*, partner, customer) -> list[CustomerContact]:
    """The customer's active contacts with their users, admins first."""
    return _CUSTOMER_CONTACTS.objects(partner=partner, customer=customer)


def canned_responses(*, partner) -> QuerySet[CannedResponse]:
    return CannedResponse.objects.for_partner(partner).order_by("title")
