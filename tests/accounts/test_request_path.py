"""What every request pays before its view: the partner from the cache (and never a stale
one), the staff two-factor check once per session, rows that carry their partner, and choice
labels in the reader's language."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from csp_portal.accounts import partner_cache
from csp_portal.accounts.middleware import StaffMfaMiddleware, forget_enrolment
from csp_portal.accounts.models import Customer, Partner, Role
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _partner_queries(client, path="/") -> int:
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    return sum('FROM "accounts_partner"' in q["sql"] for q in queries.captured_queries)


def test_the_partner_is_read_once_then_served_from_the_cache(tenant_a):
    client = tenant_a.client()

    assert _partner_queries(client) == 1
    assert _partner_queries(client) == 0


def test_a_saved_partner_is_not_served_stale(tenant_a):
    client = tenant_a.client()
    client.get("/")
    tenant_a.partner.display_name = "Renamed Partner"
    tenant_a.partner.save()

    assert "Renamed Partner" in client.get("/").content.decode()


def test_a_bulk_update_forgets_the_cached_partner(tenant_a):
    client = tenant_a.client()
    assert client.get("/").status_code == 200

    Partner.objects.filter(pk=tenant_a.partner.pk).update(is_active=False)

    assert client.get("/").status_code == 404


def test_a_renamed_slug_frees_the_old_address(tenant_a):
    old = tenant_a.client()
    old.get("/")
    tenant_a.partner.slug = "alpha-renamed"
    tenant_a.partner.save()

    assert old.get("/").status_code == 404
    assert tenant_a.client().get("/").status_code == 200


def test_a_custom_domain_is_cached_under_its_own_name_and_forgotten_when_unverified(tenant_a):
    tenant_a.partner.custom_domain = "support.alpha.example"
    tenant_a.partner.custom_domain_verified = True
    tenant_a.partner.save()
    from django.test import Client

    client = Client(HTTP_HOST="support.alpha.example")
    assert client.get("/").status_code == 200
    assert _partner_queries(client) == 0

    tenant_a.partner.custom_domain_verified = False
    tenant_a.partner.save()

    assert client.get("/").status_code == 404


def test_unknown_hosts_are_not_cached(tenant_a):
    from django.test import Client

    client = Client(HTTP_HOST="nobody.localhost")

    assert client.get("/").status_code == 404
    assert partner_cache.lookup("slug", "nobody", lambda: None) is None


def _require_mfa(tenant):
    tenant.partner.require_staff_mfa = True
    tenant.partner.save()
    user = tenant.staff[Role.HELPDESK_AGENT].user
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    return user


def _authenticator_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/staff/")
    assert response.status_code == 200
    return sum('"mfa_authenticator"' in q["sql"] for q in queries.captured_queries)


def test_an_enrolled_agent_is_checked_once_per_session(tenant_a):
    user = _require_mfa(tenant_a)
    client = tenant_a.client(user)

    assert _authenticator_queries(client) == 1
    assert _authenticator_queries(client) == 0


def test_removing_the_authenticator_brings_the_enrolment_page_back(tenant_a, rf):
    user = _require_mfa(tenant_a)
    client = tenant_a.client(user)
    client.get("/staff/")
    Authenticator.objects.filter(user=user).delete()
    session = client.session
    request = rf.get("/")
    request.session = session
    forget_enrolment(sender=None, request=request, user=user)
    session.save()

    response = client.get("/staff/")

    assert StaffMfaMiddleware.SESSION_KEY not in session
    assert response.status_code == 302


def test_the_session_remembers_the_user_not_just_the_browser(tenant_a):
    user = _require_mfa(tenant_a)
    client = tenant_a.client(user)
    client.get("/staff/")
    other = tenant_a.staff[Role.ADMIN_AGENT].user  # not enrolled
    client.force_login(other)

    assert client.get("/staff/").status_code == 302


def test_rows_read_in_a_partner_scope_carry_the_partner(tenant_a):
    with CaptureQueriesContext(connection) as queries:
        customers = list(Customer.objects.for_partner(tenant_a.partner))
        names = {customer.partner.display_name for customer in customers}

    assert names == {tenant_a.partner.display_name}
    assert len(queries.captured_queries) == 1


def test_choice_labels_follow_the_active_language():
    ticket = Ticket(kind=Ticket.Kind.BILLING, status=Ticket.Status.OPEN)

    with translation.override("nl"):
        dutch = ticket.get_kind_display()
        expected = translation.gettext("Billing question")
    with translation.override("en"):
        english = ticket.get_kind_display()

    assert english == "Billing question"
    assert dutch == expected != english


def test_an_unknown_choice_value_is_shown_as_stored():
    assert Ticket(kind="no-such-kind").get_kind_display() == "no-such-kind"
