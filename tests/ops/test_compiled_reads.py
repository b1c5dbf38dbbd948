"""Reads compiled by the ORM once per process (csp_portal.compiled): the same rows as the
queryset they stand for, whatever values each run is given, and no compiling after the first."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from csp_portal.accounts.models import Customer
from csp_portal.accounts.tenancy import partner_scope
from csp_portal.compiled import CompiledRead

pytestmark = pytest.mark.django_db


def _named(*, partner, name):
    return (
        Customer.objects.for_partner(partner)
        .filter(company_name=name)
        .order_by("pk")
        .values_list("company_name", flat=True)
    )


def test_each_run_has_its_own_values_and_the_querysets_rows(tenant_a, tenant_b):
    tenant_a.customer.company_name = "Contoso"
    tenant_a.customer.save()
    tenant_b.customer.company_name = "Contoso"
    tenant_b.customer.save()
    tenant_b.other_customers[0].company_name = "Contoso Foreign"
    tenant_b.other_customers[0].save()
    calls = []

    def build(**markers):
        calls.append(markers)
        return _named(**markers)

    read = CompiledRead(build, partner=-1, name="\x00marker")
    with partner_scope(tenant_a.partner):
        contoso_a = read.rows(partner=tenant_a.partner.pk, name="Contoso")
        # A model instance stands for its primary key.
        assert read.rows(partner=tenant_a.partner, name="Contoso") == contoso_a
        nothing = read.rows(partner=tenant_a.partner.pk, name="Contoso Foreign")
    with partner_scope(tenant_b.partner):
        contoso_b = read.rows(partner=tenant_b.partner.pk, name="Contoso")
        expected_b = list(_named(partner=tenant_b.partner, name="Contoso"))

    assert contoso_a == [("Contoso",)]
    assert nothing == []  # that name is the other partner's
    assert [name for (name,) in contoso_b] == expected_b == ["Contoso"]
    assert len(calls) == 1  # built and compiled once


def test_a_marker_the_statement_does_not_carry_is_refused(tenant_a):
    read = CompiledRead(
        lambda partner, since: _named(partner=partner, name="C"), partner=-1, since=0
    )

    with pytest.raises(ValueError, match="since"):
        read.rows(partner=tenant_a.partner.pk, since=5)


def test_objects_are_the_querysets_instances_with_relations_annotations_and_conversions(
    tenant_a, django_assert_num_queries
):
    from django.db.models import F

    from tests.factories.tickets import TicketFactory
    from tickets.models import Ticket, TicketEvent

    ticket = TicketFactory(customer=tenant_a.customer, assignee=tenant_a.admin.user, tags=["vip"])
    TicketEvent.objects.create(
        partner=tenant_a.partner,
        ticket=ticket,
        actor=tenant_a.admin.user,
        kind=TicketEvent.Kind.STATUS_CHANGED,
        data={"from": "new", "to": "open"},
    )

    def build(*, partner, ticket):
        return (
            TicketEvent.objects.for_partner(partner)
            .filter(ticket_id=ticket)
            .select_related("actor", "ticket__customer")
            .annotate(customer_name=F("ticket__customer__company_name"))
        )

    read = CompiledRead(build, partner=-1, ticket=-2)
    with partner_scope(tenant_a.partner):
        expected = list(build(partner=tenant_a.partner.pk, ticket=ticket.pk))
        read.objects(partner=tenant_a.partner.pk, ticket=-3)  # compiled here
        with django_assert_num_queries(1):
            (event,) = read.objects(partner=tenant_a.partner.pk, ticket=ticket.pk)
            assert event.actor == tenant_a.admin.user
            assert event.ticket.customer.company_name == tenant_a.customer.company_name
            assert event.ticket.tags == ["vip"]

    assert [e.pk for e in expected] == [event.pk]
    assert event.data == {"from": "new", "to": "open"} == expected[0].data  # JSON converted
    assert event.customer_name == expected[0].customer_name == tenant_a.customer.company_name
    assert isinstance(event.ticket, Ticket) and event._state.adding is False


def test_instances_read_with_a_partner_carry_it(tenant_a):
    read = CompiledRead(
        lambda partner: Customer.objects.for_partner(partner).order_by("pk"), partner=-1
    )
    with partner_scope(tenant_a.partner):
        by_object = read.objects(partner=tenant_a.partner)
        by_id = read.objects(partner=tenant_a.partner.pk)
        with CaptureQueriesContext(connection) as reached:
            partners = {customer.partner for customer in by_object}

    assert partners == {tenant_a.partner}
    assert reached.captured_queries == []
    assert [c.pk for c in by_id] == [c.pk for c in by_object]
    assert all("partner" not in c._state.fields_cache for c in by_id)  # an id has no row
