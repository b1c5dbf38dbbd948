"""Ticket pages: who sees what, attachments, safe message bodies, search and query counts.
Two partners with different numbers of tickets, so a leak changes a count."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories.tickets import AttachmentFactory, MessageFactory, TicketFactory
from tickets import selectors, services
from tickets.models import Ticket
from tickets.rendering import fill_placeholders, render_body


@pytest.fixture
def ticket(tenant_a, tenant_b):
    TicketFactory.create_batch(2, customer=tenant_b.customer)
    ticket = TicketFactory(customer=tenant_a.customer, requester=tenant_a.customer_user.user)
    MessageFactory(ticket=ticket, body="The printer is on fire")
    MessageFactory(
        ticket=ticket, author=tenant_a.admin.user, body="Secret diagnosis", is_public=False
    )
    return ticket


def test_customer_page_shows_public_messages_only(ticket, tenant_a):
    response = tenant_a.client(tenant_a.customer_user.user).get(f"/requests/{ticket.pk}/")

    assert response.status_code == 200
    assert b"The printer is on fire" in response.content
    assert b"Secret diagnosis" not in response.content


def test_sales_agent_reads_tickets_without_internal_notes(ticket, tenant_a):
    client = tenant_a.client(tenant_a.staff["sales_agent"].user)

    response = client.get(f"/staff/tickets/{ticket.pk}/")

    assert response.status_code == 200
    assert b"The printer is on fire" in response.content
    assert b"Secret diagnosis" not in response.content
    assert client.post(f"/staff/tickets/{ticket.pk}/", {"body": "hi"}).status_code == 403


def test_helpdesk_agent_sees_internal_notes_marked_as_such(ticket, tenant_a):
    response = tenant_a.client(tenant_a.staff["helpdesk_agent"].user).get(
        f"/staff/tickets/{ticket.pk}/"
    )

    assert b"Secret diagnosis" in response.content
    assert b"message-internal" in response.content


def test_a_customer_user_sees_only_own_tickets_and_an_admin_the_companys(ticket, tenant_a):
    colleague = TicketFactory(customer=tenant_a.customer, requester=tenant_a.customer_admin.user)
    TicketFactory(customer=tenant_a.other_customers[0])
    user_client = tenant_a.client(tenant_a.customer_user.user)
    admin_client = tenant_a.client(tenant_a.customer_admin.user)

    assert user_client.get(f"/requests/{colleague.pk}/").status_code == 404
    assert len(user_client.get("/requests/").context["page"].object_list) == 1
    assert len(admin_client.get("/requests/").context["page"].object_list) == 2


def test_another_customers_ticket_answers_404_and_stays_unchanged(ticket, tenant_a):
    other = TicketFactory(customer=tenant_a.other_customers[0])
    client = tenant_a.client(tenant_a.customer_admin.user)

    assert client.post(f"/requests/{other.pk}/status/", {"action": "close"}).status_code == 404
    other.refresh_from_db()
    assert other.status == Ticket.Status.NEW


def test_partner_b_tickets_are_untouched_by_partner_a_staff(ticket, tenant_a, tenant_b):
    b_ticket = tenant_b.ticket
    client = tenant_a.client(tenant_a.admin.user)

    for url in (f"/staff/tickets/{b_ticket.pk}/update/", f"/staff/tickets/{b_ticket.pk}/"):
        assert client.post(url, {"status": "closed", "body": "x"}).status_code == 404
    b_ticket.refresh_from_db()

    assert b_ticket.status == Ticket.Status.NEW
    assert b_ticket.messages.count() == 0


def test_customer_submits_a_request_with_attachments(tenant_a, tenant_b):
    client = tenant_a.client(tenant_a.customer_user.user)
    files = [
        SimpleUploadedFile("a.pdf", b"%PDF-1.7\n" + b"x" * 20),
        SimpleUploadedFile("notes.txt", b"plain words"),
    ]

    response = client.post(
        "/requests/new/",
        {
            "kind": "technical",
            "product": "azure",
            "subject": "Portal slow",
            "body": "Since Monday",
            "impact": "low",
            "urgency": "low",
            "attachments": files,
        },
    )
    ticket = Ticket.objects.for_partner(tenant_a.partner).get()

    assert response.status_code == 302
    assert sorted(ticket.attachments.values_list("content_type", flat=True)) == [
        "application/pdf",
        "text/plain",
    ]
    assert ticket.priority == Ticket.Priority.LOW


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.pdf", b""),
        ("page.pdf", b"<!DOCTYPE html><script>alert(1)</script>"),
        ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>'),
        ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00"),
    ],
)
def test_empty_markup_and_unknown_uploads_are_refused_and_nothing_is_stored(
    tenant_a, tenant_b, name, content
):
    client = tenant_a.client(tenant_a.customer_user.user)

    response = client.post(
        "/requests/new/",
        {
            "kind": "technical",
            "product": "azure",
            "subject": "With a file",
            "body": "See attached",
            "impact": "low",
            "urgency": "low",
            "attachments": [SimpleUploadedFile(name, content)],
        },
    )

    assert response.status_code == 400
    assert Ticket.objects.for_partner(tenant_a.partner).count() == 0


def test_oversized_files_are_refused(ticket, tenant_a, settings):
    settings.TICKET_ATTACHMENT_MAX_BYTES = 50
    client = tenant_a.client(tenant_a.customer_user.user)
    big = SimpleUploadedFile("big.txt", b"a" * 51)

    response = client.post(f"/requests/{ticket.pk}/", {"body": "file", "attachments": [big]})

    assert response.status_code == 400
    assert b"limit per file" in response.content
    assert ticket.messages.count() == 2


def test_the_total_per_ticket_is_limited(ticket, tenant_a, settings):
    settings.TICKET_ATTACHMENTS_MAX_TOTAL_BYTES = 30
    AttachmentFactory(message=ticket.messages.first(), size=20)

    with pytest.raises(services.ValidationError):
        services.ticket_reply(
            ticket=ticket,
            author=tenant_a.customer_user.user,
            body="more",
            attachments=[SimpleUploadedFile("b.txt", b"b" * 11)],
        )


def test_attachments_download_with_safe_headers(ticket, tenant_a):
    attachment = AttachmentFactory(message=ticket.messages.first())
    client = tenant_a.client(tenant_a.customer_user.user)

    response = client.get(f"/requests/attachments/{attachment.pk}/")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_an_internal_notes_attachment_is_hidden_from_customers_and_sales(ticket, tenant_a):
    note = ticket.messages.get(is_public=False)
    attachment = AttachmentFactory(message=note)

    customer = tenant_a.client(tenant_a.customer_admin.user)
    sales = tenant_a.client(tenant_a.staff["sales_agent"].user)
    agent = tenant_a.client(tenant_a.staff["helpdesk_agent"].user)

    assert customer.get(f"/requests/attachments/{attachment.pk}/").status_code == 404
    assert sales.get(f"/staff/tickets/attachments/{attachment.pk}/").status_code == 404
    assert agent.get(f"/staff/tickets/attachments/{attachment.pk}/").status_code == 200


def test_message_bodies_are_sanitised():
    html = render_body(
        "**bold** <script>alert(1)</script><img src=x onerror=alert(2)>"
        '<style>body{}</style><a href="javascript:alert(3)">x</a> [ok](https://example.com)'
    )

    assert "<strong>bold</strong>" in html
    for bad in ("<script", "onerror", "<style", "javascript:", "<img"):
        assert bad not in html
    assert 'href="https://example.com"' in html


def test_html_in_a_message_is_not_rendered_on_the_page(ticket, tenant_a):
    MessageFactory(ticket=ticket, body="<script>alert('x')</script> hello")

    response = tenant_a.client(tenant_a.customer_user.user).get(f"/requests/{ticket.pk}/")

    assert b"<script>alert(" not in response.content


def test_canned_placeholders_are_filled_without_the_template_engine():
    text = "Hi {{ requester.name }} {{ unknown.thing }} {% load x %} {{ requester.name|upper }}"

    filled = fill_placeholders(text, {"requester.name": "Ann"})

    assert filled == "Hi Ann {{ unknown.thing }} {% load x %} {{ requester.name|upper }}"


def test_search_finds_a_word_in_a_message_within_the_partner_only(tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b):
        services.ticket_create(
            partner=tenant.partner,
            customer=tenant.customer,
            requester=tenant.customer_user.user,
            kind="technical",
            product="azure",
            subject="Problem",
            body="The hypervisor crashed",
        )
    services.ticket_create(
        partner=tenant_a.partner,
        customer=tenant_a.customer,
        requester=None,
        kind="billing",
        product="other",
        subject="Invoice",
        body="Wrong amount",
    )

    found = selectors.ticket_list(
        partner=tenant_a.partner, user=tenant_a.admin.user, view="all", search="hypervisor"
    )
    response = tenant_a.client(tenant_a.admin.user).get("/staff/tickets/?view=all&q=hypervisor")

    assert [t.partner_id for t in found] == [tenant_a.partner.pk]
    assert len(response.context["page"].object_list) == 1


def test_sidebar_counts_come_from_two_queries(tenant_a, tenant_b, django_assert_num_queries):
    TicketFactory.create_batch(3, customer=tenant_a.customer)
    TicketFactory.create_batch(2, customer=tenant_a.customer, status=Ticket.Status.CLOSED)
    TicketFactory.create_batch(5, customer=tenant_b.customer)

    # The open tickets' aggregate (the SLA views), and the trigger-kept counts for the rest.
    with django_assert_num_queries(2):
        counts = selectors.ticket_counts(partner=tenant_a.partner, user=tenant_a.admin.user)

    assert (counts["all_open"], counts["unassigned"], counts["mine"]) == (3, 3, 0)
    assert (counts["closed"], counts["resolved"], counts["all"]) == (2, 0, 5)


def test_each_row_links_its_ticket_and_names_its_customer_status_and_assignee(tenant_a):
    agent = tenant_a.staff["helpdesk_agent"].user
    agent.full_name = "Nora Agent"
    agent.save()
    ticket = TicketFactory(
        customer=tenant_a.customer,
        subject="VPN <drops> & reconnects",
        assignee=agent,
        status=Ticket.Status.WAITING_ON_CUSTOMER,
        priority=Ticket.Priority.HIGH,
    )
    TicketFactory(customer=tenant_a.customer, subject="Nobody's yet")

    english = tenant_a.client(agent).get("/staff/tickets/?view=all").content.decode()
    dutch = tenant_a.client(agent).get("/staff/tickets/?view=all", HTTP_ACCEPT_LANGUAGE="nl")
    sales = tenant_a.client(tenant_a.staff["sales_agent"].user).get("/staff/tickets/?view=all")

    row = english[english.index(f'aria-label="{ticket.reference}"') :].split("</tr>")[0]
    assert f'href="/staff/tickets/{ticket.pk}/">VPN &lt;drops&gt; &amp; reconnects</a>' in row
    assert f"<td>{tenant_a.customer.company_name}</td>" in row
    assert 'ticket-status-waiting_on_customer">Waiting on customer<' in row
    assert 'priority-high">High<' in row
    assert "<td>Nora Agent</td>" in row
    assert english.count('name="tickets"') == 2
    assert ">Wacht op klant<" in dutch.content.decode()
    assert ">Hoog<" in dutch.content.decode()
    assert 'name="tickets"' not in sales.content.decode()  # reads, cannot select
    assert ticket.reference in sales.content.decode()


def test_the_filters_keep_their_choices_selected(tenant_a):
    agent = tenant_a.staff["helpdesk_agent"].user
    agent.full_name = "Nora <Agent>"
    agent.save()
    TicketFactory(customer=tenant_a.customer, status="open", priority="high", assignee=agent)
    client = tenant_a.client(tenant_a.admin.user)

    page = client.get(
        f"/staff/tickets/?view=all&status=open&priority=high&assignee={agent.pk}&sort=number"
    ).content.decode()

    assert '<option value="open" selected>Open</option>' in page
    assert '<option value="new">New</option>' in page
    assert '<option value="high" selected>High</option>' in page
    assert f'<option value="{agent.pk}" selected>Nora &lt;Agent&gt;</option>' in page
    assert '<option value="number" selected>number</option>' in page
    assert page.count(f'<option value="{agent.pk}"') == 2  # the filter and the bulk assign


def test_a_blank_reply_form_is_drawn_once_per_language_and_a_bound_one_each_time():
    from django.template.loader import render_to_string
    from django.utils import translation

    from tickets.forms import StaffReplyForm
    from tickets.templatetags.tickets import _blank_form_fields, form_fields

    _blank_form_fields.cache_clear()
    # Each language named: a page an earlier test requested may have left another active.
    with translation.override("en"):
        english = form_fields(StaffReplyForm())
        again = form_fields(StaffReplyForm())
        bound = form_fields(StaffReplyForm({"visibility": "nowhere"}))
        drawn = render_to_string("partials/form_fields.html", {"form": StaffReplyForm()})
    with translation.override("nl"):
        dutch = form_fields(StaffReplyForm())

    assert english == drawn
    assert again is english
    assert dutch != english and 'value="public"' in dutch
    assert _blank_form_fields.cache_info().misses == 2
    assert "is-invalid" in bound  # drawn afresh, with its error


def _fill(tenant, size):
    for _ in range(size):
        t = TicketFactory(
            customer=tenant.customer,
            requester=tenant.customer_user.user,
            assignee=tenant.admin.user,
        )
        AttachmentFactory(message__ticket=t, message__author=tenant.admin.user)
    ticket = Ticket.objects.for_partner(tenant.partner).first()
    for _ in range(size):
        MessageFactory(ticket=ticket, author=tenant.customer_user.user)
    return ticket


def _queries(tenant, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = tenant.client(tenant.staff["helpdesk_agent"].user)
    client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("page", ["list", "detail"])
def test_query_counts_do_not_grow_with_tickets_or_messages(tenant_a, tenant_b, page):
    small = _fill(tenant_a, 3)
    large = _fill(tenant_b, 30)

    def url(ticket):
        return "/staff/tickets/?view=all" if page == "list" else f"/staff/tickets/{ticket.pk}/"

    assert _queries(tenant_a, url(small)) == _queries(tenant_b, url(large))


def test_one_message_s_markdown_does_not_carry_into_the_next():
    first = render_body("See [the guide][g].\n\n[g]: https://first.example/guide")
    second = render_body("And [the guide][g] again.")

    assert 'href="https://first.example/guide"' in first
    assert "first.example" not in second


def test_a_body_shown_again_is_not_converted_again(monkeypatch):
    from tickets import rendering

    converted = []
    convert = rendering._markdown
    monkeypatch.setattr(
        rendering, "_markdown", lambda text: converted.append(text) or convert(text)
    )
    body = "A **short** reply <script>alert(1)</script> 7f3c"
    long_body = "word " * (rendering.REMEMBERED_BODY_CHARS // 5 + 1)

    shown = [render_body(body), render_body(body), render_body(long_body), render_body(long_body)]

    assert converted.count(body) == 1 and converted.count(long_body) == 2
    assert shown[0] == shown[1] and "<strong>short</strong>" in shown[1]
    assert "<script>" not in shown[1]  # what is remembered is the sanitised HTML


def test_the_timeline_names_statuses_priorities_and_people(tenant_a):
    from django.utils import translation

    ticket = TicketFactory(customer=tenant_a.customer)
    agent = tenant_a.staff["helpdesk_agent"].user
    agent.full_name = "Ada Agent"
    agent.save()
    services.ticket_change(
        ticket=ticket,
        acting_user=tenant_a.admin.user,
        status=Ticket.Status.WAITING_ON_CUSTOMER,
        priority=Ticket.Priority.URGENT,
        assignee=agent,
    )

    with translation.override("en"):
        page = tenant_a.client(tenant_a.admin.user).get(f"/staff/tickets/{ticket.pk}/")
    timeline = page.content.decode().split('id="timeline-title"')[1].split("</ol>")[0]

    assert "→ Waiting on customer" in timeline
    assert "→ Urgent" in timeline
    assert "→ Ada Agent" in timeline
    assert "waiting_on_customer" not in timeline


def test_the_customer_panel_lists_ten_subscriptions_suspended_first_and_counts_the_rest(
    tenant_a, tenant_b
):
    from django.utils import translation

    from billing.models import Subscription
    from tests.factories.billing import SubscriptionFactory

    ticket = TicketFactory(customer=tenant_a.customer)
    for n in range(12):
        SubscriptionFactory(customer=tenant_a.customer, offer_name=f"Active offer {n:02d}")
    SubscriptionFactory(
        customer=tenant_a.customer,
        offer_name="Zulu suspended",
        status=Subscription.Status.SUSPENDED,
    )
    SubscriptionFactory(
        customer=tenant_a.customer, offer_name="Gone", status=Subscription.Status.CANCELLED
    )
    SubscriptionFactory(customer=tenant_b.customer, offer_name="Foreign offer")
    client = tenant_a.client(tenant_a.admin.user)

    def panel(language):
        with translation.override(language):
            page = client.get(f"/staff/tickets/{ticket.pk}/", HTTP_ACCEPT_LANGUAGE=language)
        return page.content.decode().split('id="customer-title"')[1].split("</section>")[0]

    english = panel("en")
    subscriptions = english.split(">Subscriptions</h3>")[1]
    listed = [line.split(" <span")[0] for line in subscriptions.split("<li>")[1:]]
    # Suspended before active, each by name.
    assert listed == ["Zulu suspended (10)"] + [f"Active offer {n:02d} (10)" for n in range(9)]
    assert "and 3 more" in english
    assert "Gone" not in english and "Foreign offer" not in english
    assert "en nog 3" in panel("nl")


def test_the_ticket_page_shows_its_conversation_files_timeline_and_merge_target(tenant_a):
    target = TicketFactory(customer=tenant_a.customer)
    ticket = TicketFactory(customer=tenant_a.customer, requester=tenant_a.customer_user.user)
    first = MessageFactory(ticket=ticket, body="First, from the customer")
    AttachmentFactory(message=first, original_name="first.pdf")
    note = MessageFactory(
        ticket=ticket, author=tenant_a.admin.user, body="Internal finding", is_public=False
    )
    AttachmentFactory(message=note, original_name="internal.log")
    MessageFactory(ticket=ticket, author=tenant_a.admin.user, body="Second, from us")
    services.ticket_merge(source=ticket, target=target, acting_user=tenant_a.admin.user)

    staff = tenant_a.client(tenant_a.admin.user).get(f"/staff/tickets/{ticket.pk}/")
    customer = tenant_a.client(tenant_a.customer_user.user).get(f"/requests/{ticket.pk}/")

    page = staff.content.decode()
    conversation = page.split('class="conversation')[1].split("</ol>")[0]
    order = [
        conversation.index(text)
        for text in ("First", "first.pdf", "Internal", "internal.log", "Second")
    ]
    assert order == sorted(order)  # each file under its own message, messages in order
    assert f'merged into <a href="/staff/tickets/{target.pk}/">{target.reference}</a>' in page
    timeline = page.split('id="timeline-title"')[1].split("</ol>")[0]
    assert timeline.count("<li>") == len(ticket.events.all()) >= 1
    shown = customer.content.decode()
    assert "First, from the customer" in shown and "first.pdf" in shown
    assert "Internal finding" not in shown and "internal.log" not in shown


def test_the_ticket_read_is_the_partners_even_without_row_level_security(tenant_a, tenant_b):
    from csp_portal.accounts.tenancy import partner_scope

    foreign = TicketFactory(customer=tenant_b.customer)
    MessageFactory(ticket=foreign, body="Partner B's words")
    own = TicketFactory(customer=tenant_a.customer)

    with partner_scope(None, bypass=True):
        with pytest.raises(Ticket.DoesNotExist):
            selectors.ticket_detail(
                partner=tenant_a.partner, ticket_id=foreign.pk, include_internal=True
            )
        read = selectors.ticket_detail(
            partner=tenant_a.partner, ticket_id=own.pk, include_internal=True
        )
        # The conversation of another partner's ticket id is not read either.
        assert (
            selectors._DETAIL_PARTS[False][0].objects(
                partner=tenant_a.partner.pk, ticket=foreign.pk
            )
            == []
        )

    assert read.pk == own.pk and read.conversation == [] and read.partner == tenant_a.partner


def test_a_rows_times_are_in_the_viewers_zone_and_language(tenant_a):
    import datetime
    from zoneinfo import ZoneInfo

    from django.utils import timezone, translation
    from django.utils.formats import date_format

    agent = tenant_a.staff["helpdesk_agent"].user
    agent.time_zone = "Asia/Tokyo"
    agent.save()
    ticket = TicketFactory(customer=tenant_a.customer, assignee=agent)
    updated = datetime.datetime(2026, 3, 1, 22, 30, tzinfo=datetime.UTC)
    Ticket.objects.for_partner(tenant_a.partner).filter(pk=ticket.pk).update(updated_at=updated)

    for language in ("en", "nl"):
        page = tenant_a.client(agent).get("/staff/tickets/?view=all", HTTP_ACCEPT_LANGUAGE=language)
        row = page.content.decode().split(f'aria-label="{ticket.reference}"')[1].split("</tr>")[0]
        with translation.override(language), timezone.override(ZoneInfo("Asia/Tokyo")):
            shown = date_format(timezone.localtime(updated), "SHORT_DATETIME_FORMAT")
        assert row.endswith(f'<td class="small">{shown}</td>')  # the last cell: updated
        assert "2026" in shown and ("7:30" in shown or "07:30" in shown)  # 22:30 UTC in Tokyo
