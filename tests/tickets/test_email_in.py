"""Inbound e-mail through the webhook (the test client on the platform host): replies land on
their ticket and nowhere else, the support address opens tickets for known contacts and holds
the rest for an agent, duplicates count once, bad input is refused and logged. Two partners
with different numbers of tickets, so a leak changes a count."""

import hashlib
import hmac
from datetime import timedelta

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from csp_portal.accounts.tenancy import partner_scope
from tests.factories.tickets import MessageFactory, TicketFactory
from tests.tasks import drain_tasks, purge_tasks
from tests.tickets.email_messages import PDF, PNG, QUOTED_REPLY, build_message
from tickets import email_in
from tickets.email_models import InboundMessage, InboundRejection
from tickets.email_parse import strip_quoted
from tickets.email_tokens import reply_address
from tickets.models import Ticket, TicketAttachment, TicketMessage

SECRET = "inbound-test-secret"
Status = InboundMessage.Status


@pytest.fixture(autouse=True)
def _inbound_secret(settings):
    settings.INBOUND_EMAIL_SECRET = SECRET


@pytest.fixture
def ticket_a(tenant_a, tenant_b):
    TicketFactory.create_batch(2, customer=tenant_b.customer, requester=tenant_b.customer_user.user)
    ticket = TicketFactory(
        customer=tenant_a.customer,
        requester=tenant_a.customer_user.user,
        status=Ticket.Status.WAITING_ON_CUSTOMER,
    )
    MessageFactory(ticket=ticket, body="Please restart the VM.")
    return ticket


@pytest.fixture
def ticket_b(tenant_b):
    return TicketFactory(customer=tenant_b.customer, requester=tenant_b.customer_user.user)


def _post(raw: bytes, **headers):
    headers.setdefault("HTTP_X_INBOUND_SECRET", SECRET)
    return Client().post("/inbound/email/", data=raw, content_type="message/rfc822", **headers)


def _reply_to(ticket, user):
    return reply_address(partner_id=ticket.partner_id, ticket_id=ticket.pk, user_id=user.pk)


def _messages(partner):
    return TicketMessage.objects.for_partner(partner)


def _everything(tenant_a, tenant_b):
    """Every ticket message and attachment of both partners (what a leak would change)."""
    return [
        (
            list(_messages(t.partner).order_by("pk").values_list("ticket_id", "body")),
            TicketAttachment.objects.for_partner(t.partner).count(),
            Ticket.objects.for_partner(t.partner).count(),
        )
        for t in (tenant_a, tenant_b)
    ]


# -- replies ------------------------------------------------------------------------------


def test_a_reply_lands_on_its_ticket_without_the_quoted_history_and_with_its_attachments(
    tenant_a, tenant_b, ticket_a, django_capture_on_commit_callbacks
):
    user = tenant_a.customer_user.user
    raw = build_message(
        sender=user.email,
        to=_reply_to(ticket_a, user),
        body=QUOTED_REPLY,
        attachments=(("screenshot.png", PNG, "image/png"), ("invoice.pdf", PDF, "application/pdf")),
    )
    purge_tasks()

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(raw)
    sent = drain_tasks()

    assert response.status_code == 200
    assert response.json()["outcome"] == "applied"
    reply = _messages(tenant_a.partner).filter(ticket=ticket_a).latest("pk")
    assert reply.body == "Restarting the VM fixed it, thank you!\n\nKind regards,\nJan"
    assert reply.author == user and reply.is_public and reply.is_from_customer
    assert reply.body_format == TicketMessage.Format.PLAIN
    assert sorted(a.original_name for a in reply.attachments.all()) == [
        "invoice.pdf",
        "screenshot.png",
    ]
    assert sorted(a.content_type for a in reply.attachments.all()) == [
        "application/pdf",
        "image/png",
    ]
    ticket_a.refresh_from_db()
    assert ticket_a.status == Ticket.Status.OPEN  # a customer reply reopens a waiting ticket
    assert [name for name, _kw in sent].count("tickets.tasks.notify_ticket_event") == 1
    assert _messages(tenant_b.partner).count() == 0
    inbound = InboundMessage.objects.for_partner(tenant_a.partner).get()
    assert (inbound.status, inbound.ticket_id) == (Status.APPLIED, ticket_a.pk)


def test_a_refused_attachment_is_noted_and_the_reply_still_lands(tenant_a, tenant_b, ticket_a):
    user = tenant_a.customer_user.user
    raw = build_message(
        sender=user.email,
        to=_reply_to(ticket_a, user),
        body="See the attached page.",
        attachments=(
            ("page.html", b"<html><script>alert(1)</script></html>", "text/html"),
            ("log.txt", b"boot failed at 10:02\n", "text/plain"),
        ),
    )

    response = _post(raw)

    assert response.json()["outcome"] == "applied"
    reply = _messages(tenant_a.partner).filter(ticket=ticket_a).latest("pk")
    assert [a.original_name for a in reply.attachments.all()] == ["log.txt"]
    assert reply.body.startswith("See the attached page.")
    assert "[Attachment not accepted: page.html is not a file type we accept" in reply.body
    inbound = InboundMessage.objects.for_partner(tenant_a.partner).get()
    assert len(inbound.notes) == 1


def test_an_html_only_reply_keeps_the_text_and_drops_the_quote(tenant_a, tenant_b, ticket_a):
    user = tenant_a.customer_user.user
    message_html = (
        "<div>It works <b>again</b>.</div><script>steal()</script>"
        '<div class="gmail_quote">On Tue wrote:<blockquote>old text</blockquote></div>'
    )
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = user.email
    message["To"] = _reply_to(ticket_a, user)
    message["Subject"] = "Re: VM"
    message["Message-ID"] = "<html-only@mail.customer.example>"
    message.set_content(message_html, subtype="html")

    _post(message.as_bytes())

    reply = _messages(tenant_a.partner).filter(ticket=ticket_a).latest("pk")
    assert reply.body == "It works again."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fixed.\n\nOn Mon, 1 Jan 2024, A <a@x> wrote:\n> old\n", "Fixed."),
        ("Fixed.\n\n-----Original Message-----\nFrom: A\nSent: Monday\n\nold", "Fixed."),
        ("Opgelost.\n\nOp ma 1 jan. 2024 om 10:00 schreef Alpha <a@x>:\n> oud\n", "Opgelost."),
        ("Fixed.\n\nFrom: Alpha Support\nSent: Monday 1 January\nSubject: VM", "Fixed."),
        ("Thanks\n> quoted\n> more\n\n", "Thanks"),
        (
            "> Which VM?\nweb-01.\n> Since when?\nToday.\n",
            "> Which VM?\nweb-01.\n> Since when?\nToday.",
        ),
        ("On Mon, A <a@x> wrote:\n> old\n\nMy answer below.\n", "My answer below."),
        ("No history at all.\nSecond line.", "No history at all.\nSecond line."),
    ],
)
def test_quoted_history_is_cut_in_the_common_formats(text, expected):
    assert strip_quoted(text) == expected


def test_a_forged_token_lands_nowhere_and_is_logged_for_the_operator(tenant_a, tenant_b, ticket_a):
    user = tenant_a.customer_user.user
    genuine = _reply_to(ticket_a, user)
    local, domain = genuine.split("@")
    forged_char = "a" if local[-1] != "a" else "b"
    forged = f"{local[:-1]}{forged_char}@{domain}"
    before = _everything(tenant_a, tenant_b)

    response = _post(build_message(sender=user.email, to=forged, body="Hijack"))

    assert response.status_code == 200
    assert response.json()["outcome"] == "rejected"
    assert _everything(tenant_a, tenant_b) == before
    assert not InboundMessage.objects.unscoped().exists()
    rejection = InboundRejection.objects.get()
    assert rejection.reason == "forged or damaged reply address"
    assert rejection.sender == user.email


def test_an_expired_token_is_rejected_and_logged_for_its_partner(tenant_a, tenant_b, ticket_a):
    user = tenant_a.customer_user.user
    with time_machine.travel(timezone.now() - timedelta(days=181)):
        old_address = _reply_to(ticket_a, user)
    before = _everything(tenant_a, tenant_b)

    response = _post(build_message(sender=user.email, to=old_address, body="Late answer"))

    assert response.json()["outcome"] == "rejected"
    assert _everything(tenant_a, tenant_b) == before
    inbound = InboundMessage.objects.for_partner(tenant_a.partner).get()
    assert (inbound.status, inbound.reason) == (Status.REJECTED, "expired reply address")
    assert InboundMessage.objects.for_partner(tenant_b.partner).count() == 0


def test_a_token_naming_another_partners_ticket_lands_nowhere(
    tenant_a, tenant_b, ticket_a, ticket_b
):
    user = tenant_a.customer_user.user
    crossed = reply_address(partner_id=tenant_a.partner.pk, ticket_id=ticket_b.pk, user_id=user.pk)
    before = _everything(tenant_a, tenant_b)

    response = _post(build_message(sender=user.email, to=crossed, body="Into B?"))

    assert response.json()["outcome"] == "rejected"
    assert _everything(tenant_a, tenant_b) == before
    inbound = InboundMessage.objects.for_partner(tenant_a.partner).get()
    assert inbound.reason == "the reply address's ticket is gone"


def test_another_partners_token_for_a_person_who_is_not_theirs_lands_nowhere(
    tenant_a, tenant_b, ticket_a, ticket_b
):
    outsider = tenant_a.customer_user.user
    address = reply_address(
        partner_id=tenant_b.partner.pk, ticket_id=ticket_b.pk, user_id=outsider.pk
    )
    before = _everything(tenant_a, tenant_b)

    response = _post(build_message(sender=outsider.email, to=address, body="Into B?"))

    assert response.json()["outcome"] == "rejected"
    assert _everything(tenant_a, tenant_b) == before
    inbound = InboundMessage.objects.for_partner(tenant_b.partner).get()
    assert inbound.reason == "the reply address's recipient may not answer on this ticket"


def test_a_reply_sent_by_someone_else_than_the_recipient_is_rejected(tenant_a, tenant_b, ticket_a):
    user = tenant_a.customer_user.user
    before = _everything(tenant_a, tenant_b)

    response = _post(
        build_message(sender="mallory@evil.example", to=_reply_to(ticket_a, user), body="Hi")
    )

    assert response.json()["outcome"] == "rejected"
    assert _everything(tenant_a, tenant_b) == before
    assert (
        "mallory@evil.example" in InboundMessage.objects.for_partner(tenant_a.partner).get().reason
    )


def test_an_automatic_reply_is_not_added_to_the_ticket(tenant_a, tenant_b, ticket_a):
    user = tenant_a.customer_user.user
    before = _everything(tenant_a, tenant_b)

    response = _post(
        build_message(
            sender=user.email,
            to=_reply_to(ticket_a, user),
            subject="Out of office",
            body="I am away until Monday.",
            headers={"Auto-Submitted": "auto-replied"},
        )
    )

    assert response.json()["outcome"] == "rejected"
    assert _everything(tenant_a, tenant_b) == before


def test_a_reply_to_a_closed_ticket_waits_for_an_agent(tenant_a, tenant_b, ticket_a):
    Ticket.objects.for_partner(tenant_a.partner).filter(pk=ticket_a.pk).update(
        status=Ticket.Status.CLOSED
    )
    user = tenant_a.customer_user.user

    response = _post(build_message(sender=user.email, to=_reply_to(ticket_a, user), body="Again"))

    assert response.json()["outcome"] == "held"
    inbound = InboundMessage.objects.for_partner(tenant_a.partner).get()
    assert inbound.status == Status.HELD
    assert inbound.ticket_id == ticket_a.pk
    assert "closed" in inbound.reason
    assert inbound.raw


def test_the_same_message_delivered_twice_is_applied_once(tenant_a, tenant_b, ticket_a):
    user = tenant_a.customer_user.user
    raw = build_message(
        sender=user.email,
        to=_reply_to(ticket_a, user),
        body="Only once, please.",
        message_id="<only-once@mail.customer.example>",
    )

    first, second = _post(raw), _post(raw)

    assert first.json()["outcome"] == "applied"
    assert second.json()["outcome"] == "duplicate"
    assert _messages(tenant_a.partner).filter(body="Only once, please.").count() == 1
    assert InboundMessage.objects.for_partner(tenant_a.partner).count() == 1


# -- the support address ------------------------------------------------------------------


def test_a_known_contact_writing_to_the_support_address_opens_a_ticket(
    tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    contact = tenant_a.customer_admin
    TicketFactory.create_batch(2, customer=tenant_b.customer)
    raw = build_message(
        sender=f"Jan Jansen <{contact.user.email.upper()}>",
        to=tenant_a.partner.support_email,
        subject="Teams calls drop",
        body="Since this morning every Teams call drops after a minute.",
        attachments=(("trace.pdf", PDF, "application/pdf"),),
    )
    purge_tasks()

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(raw)
    drain_tasks()

    assert response.json()["outcome"] == "applied"
    ticket = Ticket.objects.for_partner(tenant_a.partner).get()
    assert (ticket.customer, ticket.requester) == (contact.customer, contact.user)
    assert ticket.channel == Ticket.Channel.EMAIL
    assert ticket.subject == "Teams calls drop"
    assert ticket.attachments.count() == 1
    assert Ticket.objects.for_partner(tenant_b.partner).count() == 2
    from django.core import mail

    acknowledgement = [m for m in mail.outbox if m.to == [contact.user.email]]
    assert len(acknowledgement) == 1
    assert ticket.reference in acknowledgement[0].subject


def test_an_unknown_sender_waits_for_an_agent_who_accepts_it(tenant_a, tenant_b):
    raw = build_message(
        sender="New Person <new.person@prospect.example>",
        to=tenant_a.partner.support_email,
        subject="Licences for our new office",
        body="We need ten more Business Premium licences.",
        attachments=(("quote.pdf", PDF, "application/pdf"),),
    )

    response = _post(raw)

    assert response.json()["outcome"] == "held"
    assert Ticket.objects.for_partner(tenant_a.partner).count() == 0
    inbound = InboundMessage.objects.for_partner(tenant_a.partner).get()
    agent = tenant_a.staff["helpdesk_agent"].user
    page = tenant_a.client(agent)

    listing = page.get("/staff/tickets/inbound/")
    accepted = page.post(
        f"/staff/tickets/inbound/{inbound.pk}/",
        {
            "action": "accept",
            "customer": tenant_a.other_customers[0].pk,
            "requester": "",
            "kind": Ticket.Kind.SUBSCRIPTION,
            "product": Ticket.Product.MICROSOFT_365,
        },
    )

    assert listing.status_code == 200
    assert "Licences for our new office" in listing.content.decode()
    ticket = Ticket.objects.for_partner(tenant_a.partner).get()
    assert accepted.status_code == 302
    assert accepted["Location"].endswith(f"/staff/tickets/{ticket.pk}/")
    assert ticket.customer == tenant_a.other_customers[0]
    assert (ticket.kind, ticket.channel) == (Ticket.Kind.SUBSCRIPTION, Ticket.Channel.EMAIL)
    first = ticket.messages.get()
    assert first.body.startswith("E-mail from New Person <new.person@prospect.example>:")
    assert [a.original_name for a in ticket.attachments.all()] == ["quote.pdf"]
    inbound.refresh_from_db()
    assert (inbound.status, inbound.ticket_id, inbound.decided_by) == (
        Status.ACCEPTED,
        ticket.pk,
        agent,
    )


def test_an_agent_discards_a_held_message_and_its_copy_is_deleted(
    tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    _post(build_message(sender="spam@spam.example", to=tenant_a.partner.support_email))
    inbound = InboundMessage.objects.for_partner(tenant_a.partner).get()
    stored = inbound.raw.name
    page = tenant_a.client(tenant_a.staff["helpdesk_agent"].user)

    with django_capture_on_commit_callbacks(execute=True):
        response = page.post(f"/staff/tickets/inbound/{inbound.pk}/", {"action": "discard"})

    assert response.status_code == 302
    inbound.refresh_from_db()
    assert inbound.status == Status.DISCARDED
    assert not inbound.raw
    assert not default_storage.exists(stored)
    assert Ticket.objects.for_partner(tenant_a.partner).count() == 0


def test_a_decided_message_cannot_be_accepted_again(tenant_a, tenant_b):
    _post(build_message(sender="spam@spam.example", to=tenant_a.partner.support_email))
    inbound = InboundMessage.objects.for_partner(tenant_a.partner).get()
    page = tenant_a.client(tenant_a.staff["helpdesk_agent"].user)
    page.post(f"/staff/tickets/inbound/{inbound.pk}/", {"action": "discard"})

    response = page.post(
        f"/staff/tickets/inbound/{inbound.pk}/",
        {"customer": tenant_a.customer.pk, "kind": "technical", "product": "other"},
    )

    assert response.status_code == 400
    assert "already decided" in response.content.decode()
    assert Ticket.objects.for_partner(tenant_a.partner).count() == 0


def test_the_inbound_page_answers_404_for_another_partners_message(tenant_a, tenant_b):
    _post(build_message(sender="x@unknown.example", to=tenant_b.partner.support_email))
    foreign = InboundMessage.objects.for_partner(tenant_b.partner).get()
    page = tenant_a.client(tenant_a.admin.user)

    got = page.get(f"/staff/tickets/inbound/{foreign.pk}/")
    posted = page.post(f"/staff/tickets/inbound/{foreign.pk}/", {"action": "discard"})

    assert (got.status_code, posted.status_code) == (404, 404)
    foreign.refresh_from_db()
    assert foreign.status == Status.HELD
    assert "x@unknown.example" not in page.get("/staff/tickets/inbound/").content.decode()


def test_the_inbound_page_needs_the_right_to_work_tickets(tenant_a, tenant_b):
    sales = tenant_a.client(tenant_a.staff["sales_agent"].user)
    customer = tenant_a.client(tenant_a.customer_admin.user)

    assert sales.get("/staff/tickets/inbound/").status_code == 403
    assert customer.get("/staff/tickets/inbound/").status_code == 404


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"this is not an e-mail at all\x00\xff\n",
        (
            b"From: a@b.example\r\nTo: support@alpha.example\r\nSubject: x\r\n"
            b"Content-Type: multipart/mixed\r\n\r\nno boundary anywhere\r\n"
        ),
        b"Subject: no addresses\r\n\r\nbody\r\n",
    ],
    ids=["empty", "garbage", "multipart-without-boundary", "no-sender"],
)
def test_malformed_mime_is_refused_and_nothing_is_stored_in_tickets(tenant_a, tenant_b, raw):
    before = _everything(tenant_a, tenant_b)

    response = _post(raw)

    assert response.status_code == 400
    assert response.json()["outcome"] == "malformed"
    assert _everything(tenant_a, tenant_b) == before
    assert not InboundMessage.objects.unscoped().exists()
    assert InboundRejection.objects.get().reason.startswith("malformed message")


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_X_INBOUND_SECRET": "wrong"}, {"HTTP_X_INBOUND_SIGNATURE": "sha256=00ff"}],
    ids=["no-secret", "wrong-secret", "bad-signature"],
)
def test_the_webhook_refuses_a_caller_without_the_secret(tenant_a, tenant_b, ticket_a, headers):
    user = tenant_a.customer_user.user
    raw = build_message(sender=user.email, to=_reply_to(ticket_a, user), body="Sneaky")
    before = _everything(tenant_a, tenant_b)

    response = Client().post("/inbound/email/", data=raw, content_type="message/rfc822", **headers)

    assert response.status_code == 403
    assert _everything(tenant_a, tenant_b) == before
    assert not InboundMessage.objects.unscoped().exists()
    assert not InboundRejection.objects.exists()


def test_the_webhook_refuses_everything_when_no_secret_is_configured(
    settings, tenant_a, tenant_b, ticket_a
):
    settings.INBOUND_EMAIL_SECRET = ""
    user = tenant_a.customer_user.user
    raw = build_message(sender=user.email, to=_reply_to(ticket_a, user))

    response = _post(raw, HTTP_X_INBOUND_SECRET="")

    assert response.status_code == 403


def test_the_webhook_accepts_an_hmac_signature_of_the_body(tenant_a, tenant_b, ticket_a):
    user = tenant_a.customer_user.user
    raw = build_message(sender=user.email, to=_reply_to(ticket_a, user), body="Signed")
    signature = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()

    response = Client().post(
        "/inbound/email/",
        data=raw,
        content_type="message/rfc822",
        HTTP_X_INBOUND_SIGNATURE=f"sha256={signature}",
    )

    assert response.json()["outcome"] == "applied"


def test_the_webhook_only_takes_post(tenant_a):
    assert Client().get("/inbound/email/", HTTP_X_INBOUND_SECRET=SECRET).status_code == 405


def test_a_message_too_large_is_refused(settings, tenant_a, tenant_b, ticket_a):
    settings.INBOUND_EMAIL_MAX_BYTES = 2000
    user = tenant_a.customer_user.user
    raw = build_message(sender=user.email, to=_reply_to(ticket_a, user), body="x" * 5000)

    response = _post(raw)

    assert response.status_code == 413
    assert not InboundMessage.objects.unscoped().exists()


def test_mail_for_no_partner_is_logged_for_the_operator(tenant_a, tenant_b):
    response = _post(build_message(sender="a@b.example", to="someone@elsewhere.example"))

    assert response.json()["outcome"] == "rejected"
    assert InboundRejection.objects.get().recipients == "someone@elsewhere.example"


# -- Microsoft case numbers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "number"),
    [
        ("[TrackingID#2401150040001234] Your support request", "2401150040001234"),
        ("RE: Case 2401150040001234 - mailbox cannot be opened", "2401150040001234"),
        ("SR# 240115004000123 update", "240115004000123"),
        ("Your Premier case SRX1234567890ID", "SRX1234567890ID"),
        ("Invoice 2401150040001234 overdue", None),
        ("Outlook will not sync", None),
    ],
)
def test_case_numbers_are_read_from_subjects(subject, number):
    assert email_in.case_number_from(subject) == number


def test_a_registered_case_handler_takes_microsofts_mail(tenant_a, tenant_b, ticket_a):
    seen = []

    def handler(*, partner, case_number, message):
        seen.append((partner.pk, case_number, message.sender))
        return ticket_a

    email_in.register_case_handler(handler)
    try:
        response = _post(
            build_message(
                sender="support@microsoft.example",
                to=tenant_a.partner.support_email,
                subject="[TrackingID#2401150040001234] Update on your case",
                body="We have applied a fix.",
            )
        )
    finally:
        email_in.unregister_case_handler(handler)

    assert response.json()["outcome"] == "applied"
    assert seen == [(tenant_a.partner.pk, "2401150040001234", "support@microsoft.example")]
    inbound = InboundMessage.objects.for_partner(tenant_a.partner).get()
    assert (inbound.case_number, inbound.ticket_id) == ("2401150040001234", ticket_a.pk)


def test_without_a_handler_microsofts_mail_waits_with_its_case_number(tenant_a, tenant_b):
    _post(
        build_message(
            sender="support@microsoft.example",
            to=tenant_a.partner.support_email,
            subject="Case 2401150040001234 closed",
        )
    )

    inbound = InboundMessage.objects.for_partner(tenant_a.partner).get()
    assert (inbound.status, inbound.case_number) == (Status.HELD, "2401150040001234")


def test_inbound_rows_are_scoped_by_row_level_security(tenant_a, tenant_b):
    _post(build_message(sender="x@unknown.example", to=tenant_a.partner.support_email))
    _post(build_message(sender="y@unknown.example", to=tenant_b.partner.support_email))
    _post(build_message(sender="z@unknown.example", to=tenant_b.partner.support_email))

    with partner_scope(tenant_b.partner):
        seen = list(InboundMessage.unscoped_objects.values_list("partner_id", flat=True))

    assert seen == [tenant_b.partner.pk] * 2


# Session, user, membership, scope, counts, the page's rows and paginator count, the base layout
# (the partner itself comes from the cache).
QUERIES_INBOUND_LIST = 11


@pytest.mark.parametrize("held", [2, 12])
def test_the_inbound_list_costs_the_same_queries_for_few_and_many_messages(
    tenant_a, tenant_b, held, django_assert_num_queries
):
    for n in range(held):
        _post(build_message(sender=f"p{n}@unknown.example", to=tenant_a.partner.support_email))
    _post(build_message(sender="b@unknown.example", to=tenant_b.partner.support_email))
    page = tenant_a.client(tenant_a.staff["helpdesk_agent"].user)
    page.get("/staff/tickets/inbound/")  # warm the session and the site's caches

    with django_assert_num_queries(QUERIES_INBOUND_LIST):
        response = page.get("/staff/tickets/inbound/")

    assert response.content.decode().count("@unknown.example") == held
