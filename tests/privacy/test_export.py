"""Customer data export: requested by a global admin, built after commit by a Celery task,
holding that customer's data and nobody else's, downloadable by global admins only."""

import io
import json
import zipfile

import pytest

from csp_portal.accounts.models import Role
from csp_portal.audit.models import AuditEvent
from csp_portal.privacy.models import DataExport
from tests.factories import CustomerFactory
from tests.factories.billing import InvoiceFactory
from tests.factories.tickets import AttachmentFactory, MessageFactory, TicketFactory
from tests.tasks import drain_tasks


def _privacy_url(tenant, customer=None):
    return f"/staff/customers/{(customer or tenant.customer).pk}/privacy/"


def _seed(tenant, tickets):
    """`tickets` tickets with a message and an attachment for the customer; one for another
    customer of the same partner; an invoice each."""
    for n in range(tickets):
        ticket = TicketFactory(
            customer=tenant.customer,
            requester=tenant.customer_user.user,
            subject=f"{tenant.partner.slug} mine {n}",
        )
        AttachmentFactory(
            message=MessageFactory(ticket=ticket, body=f"{tenant.partner.slug} body {n}")
        )
    other = CustomerFactory(
        partner=tenant.partner, company_name=f"{tenant.partner.slug} Other B.V."
    )
    TicketFactory(
        customer=other,
        requester=tenant.customer_admin.user,
        subject=f"{tenant.partner.slug} not mine",
    )
    InvoiceFactory(customer=tenant.customer, number=f"{tenant.partner.slug.upper()}-MINE")
    InvoiceFactory(customer=other, number=f"{tenant.partner.slug.upper()}-OTHER")
    return other


def _export(tenant, django_capture_on_commit_callbacks):
    client = tenant.client(tenant.admin.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_privacy_url(tenant) + "exports/")
    drain_tasks()
    export = DataExport.objects.for_partner(tenant.partner).get()
    return client, response, export


@pytest.mark.django_db
def test_export_holds_the_customer_and_nothing_of_anyone_else(
    tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    _seed(tenant_a, tickets=2)
    _seed(tenant_b, tickets=3)

    client, response, export = _export(tenant_a, django_capture_on_commit_callbacks)
    download = client.get(_privacy_url(tenant_a) + f"exports/{export.pk}/download/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    document = json.loads(archive.read("export.json"))
    text = archive.read("export.json").decode()

    assert response.status_code == 302
    assert export.status == DataExport.Status.READY
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert document["customer"]["company_name"] == tenant_a.customer.company_name
    assert {c["user"]["email"] for c in document["contacts"]} == {
        tenant_a.customer_admin.user.email,
        tenant_a.customer_user.user.email,
    }
    assert len(document["tickets"]) == 2
    assert all(len(t["messages"]) == 1 and len(t["attachments"]) == 1 for t in document["tickets"])
    assert len([n for n in archive.namelist() if n.startswith("attachments/")]) == 2
    assert [i["number"] for i in document["billing"]["billing.invoice"]] == ["ALPHA-MINE"]
    assert len(document["billing"]["billing.invoiceline"]) == 1
    assert "not mine" not in text and "ALPHA-OTHER" not in text and "Other B.V." not in text
    assert "bravo" not in text.lower()
    assert "password" not in text


@pytest.mark.django_db
def test_export_and_download_are_audited(tenant_a, django_capture_on_commit_callbacks):
    client, _response, export = _export(tenant_a, django_capture_on_commit_callbacks)
    client.get(_privacy_url(tenant_a) + f"exports/{export.pk}/download/")

    actions = list(
        AuditEvent.objects.for_partner(tenant_a.partner)
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["customer.data_export_requested", "customer.data_export_downloaded"]


@pytest.mark.django_db
def test_the_request_enqueues_the_build_after_commit(tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tenant_a.client(tenant_a.admin.user).post(_privacy_url(tenant_a) + "exports/")

    sent = drain_tasks(run=False)

    export = DataExport.objects.for_partner(tenant_a.partner).get()
    assert sent == [
        (
            "csp_portal.privacy.tasks.build_customer_export",
            {"partner_id": tenant_a.partner.pk, "export_id": export.pk},
        )
    ]
    assert export.status == DataExport.Status.PENDING


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r for r in Role if r != Role.GLOBAL_ADMIN])
def test_only_global_admins_reach_exports(tenant_a, role):
    export = tenant_a.data_export
    client = tenant_a.client(tenant_a.staff[role].user)

    page = client.get(_privacy_url(tenant_a))
    download = client.get(_privacy_url(tenant_a) + f"exports/{export.pk}/download/")
    create = client.post(_privacy_url(tenant_a) + "exports/")

    assert (page.status_code, download.status_code, create.status_code) == (403, 403, 403)
    assert DataExport.objects.for_partner(tenant_a.partner).count() == 1


@pytest.mark.django_db
def test_an_export_is_not_downloadable_through_another_customer(
    tenant_a, django_capture_on_commit_callbacks
):
    _client, _response, export = _export(tenant_a, django_capture_on_commit_callbacks)
    other = tenant_a.other_customers[0]

    response = tenant_a.client(tenant_a.admin.user).get(
        _privacy_url(tenant_a, other) + f"exports/{export.pk}/download/"
    )

    assert response.status_code == 404


@pytest.mark.django_db
def test_the_privacy_page_lists_exports(tenant_a, tenant_b):
    tenant_a.data_export  # noqa: B018
    tenant_b.data_export  # noqa: B018

    response = tenant_a.client(tenant_a.admin.user).get(_privacy_url(tenant_a))

    assert response.status_code == 200
    assert len(response.context["exports"]) == 1
