"""Seed a benchmark database fast: rows generated in Python and streamed into PostgreSQL with
COPY (text format), ids assigned here so foreign keys need no lookups, secondary indexes of
the big tables dropped during the load and rebuilt after it, then search vectors, counters
and sequences brought up to date in SQL.

Runs as the owner role with `csp.rls_bypass` on for the session (the load spans partners).
Partner 1 is the benchmark's partner: it holds `BENCH_SHARE` of the customers, tickets and
invoices, so its pages show how one partner's cost grows with its own data, while the other
partners fill the tables around it.
"""

from __future__ import annotations

# ruff: noqa: S311 — seeded pseudo-random data, not secrets
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import NOT_PROVIDED

from .config import Sizes

BENCH_SHARE = 0.05
STAFF_OF_BENCH_PARTNER = 20
STAFF_PER_PARTNER = 3
SUBSCRIPTIONS_PER_CUSTOMER = 2
LINES_PER_INVOICE = 2
MESSAGES_PER_TICKET = 4
# The word the search benchmark looks for: in about 1 message body in 200.
SEARCH_WORD = "quarantine"

NOW = datetime.now(tz=UTC).replace(microsecond=0)
TODAY = NOW.date()

_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})

WORDS = (
    "licence sign-in mailbox tenant azure subscription invoice teams sharepoint onedrive "
    "outlook exchange defender intune policy device user admin portal error access denied "
    "renewal seats quantity upgrade migration backup restore latency outage region vm disk "
    "network firewall dns domain certificate mfa password reset sync calendar meeting "
    "printer laptop phone license charge credit refund payment overdue statement dynamics "
    "power bi report dashboard workflow approval please thanks regards urgent today "
    "tomorrow customer partner ticket update status attached screenshot log trace"
).split()


def fmt(value) -> str:
    """One value in COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return "{" + ",".join(value) + "}"
    if isinstance(value, dict):
        return json.dumps(value).translate(_ESCAPE)
    if isinstance(value, str):
        return value.translate(_ESCAPE)
    return str(value)


class LineStream:
    """A file-like object over generated lines, for `copy_expert` (read in chunks, so the
    whole table never sits in memory)."""

    def __init__(self, lines: Iterable[str]):
        self._lines: Iterator[str] = iter(lines)
        self._buffer = ""
        self.count = 0

    def read(self, size: int = 65536) -> str:
        chunks = [self._buffer]
        length = len(self._buffer)
        for line in self._lines:
            chunks.append(line)
            self.count += 1
            length += len(line)
            if length >= size:
                break
        data = "".join(chunks)
        self._buffer = data[size:] if size > 0 else ""
        return data[:size] if size > 0 else data

    readline = read


def _table_columns(model, given: list[str]) -> tuple[list[str], list[str]]:
    """The columns to COPY: `given` plus every NOT NULL column with a default (filled with
    it). A NOT NULL column with neither is a seeding bug, reported at once."""
    extra_columns, extra_values = [], []
    for field in model._meta.concrete_fields:
        column = field.column
        if column in given or field.primary_key:
            continue
        if field.null or field.db_default is not NOT_PROVIDED:
            continue
        if field.has_default():
            default = field.get_default()
        elif field.empty_strings_allowed:
            default = ""  # a text column left blank, as a form would leave it
        else:
            raise RuntimeError(f"{model.__name__}.{field.name} is NOT NULL and not seeded")
        extra_columns.append(column)
        extra_values.append(fmt(default))
    return given + extra_columns, extra_values


def copy_rows(model, columns: list[str], rows: Iterable[tuple]) -> int:
    """COPY `rows` (tuples in `columns` order) into the model's table; returns the count."""
    all_columns, extra = _table_columns(model, columns)
    suffix = ("\t" + "\t".join(extra)) if extra else ""

    def lines():
        for row in rows:
            yield "\t".join(map(fmt, row)) + suffix + "\n"

    stream = LineStream(lines())
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in all_columns)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN", stream, size=1 << 18)
    return stream.count


@dataclass
class Plan:
    """Which rows exist, derived from the sizes (ids are positions, from 1)."""

    sizes: Sizes

    def __post_init__(self):
        s = self.sizes
        self.partners = s.partners
        self.bench_customers = max(2, int(s.customers * BENCH_SHARE))
        # Customers 1..bench_customers belong to partner 1; the rest round-robin 2..P.
        self.customers_of: dict[int, list[int]] = {1: list(range(1, self.bench_customers + 1))}
        for partner in range(2, self.partners + 1):
            self.customers_of[partner] = []
        others = list(range(2, self.partners + 1))
        for offset, customer in enumerate(range(self.bench_customers + 1, s.customers + 1)):
            self.customers_of[others[offset % len(others)]].append(customer)
        self.partner_of_customer = {
            c: p for p, customers in self.customers_of.items() for c in customers
        }
        # Staff users first (partner 1 has more), then one contact user per customer.
        self.staff_of: dict[int, list[int]] = {}
        user = 0
        for partner in range(1, self.partners + 1):
            count = STAFF_OF_BENCH_PARTNER if partner == 1 else STAFF_PER_PARTNER
            self.staff_of[partner] = list(range(user + 1, user + count + 1))
            user += count
        self.first_contact_user = user + 1
        self.users = user + s.customers

    def contact_user(self, customer: int) -> int:
        return self.first_contact_user + customer - 1

    def partner_for_row(self, rng: random.Random) -> int:
        if rng.random() < BENCH_SHARE or self.partners == 1:
            return 1
        return rng.randint(2, self.partners)


def slug(partner: int) -> str:
    return f"bench-{partner:04d}"


def reference_prefix(partner: int) -> str:
    return "BEN"


class Seeder:
    def __init__(self, sizes: Sizes, *, log: Callable[[str], None] = print, seed: int = 7):
        self.sizes = sizes
        self.plan = Plan(sizes)
        self.rng = random.Random(seed)
        self.log = log
        self.timings: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self.body_pool = self._bodies(4096)

    def _bodies(self, count: int) -> list[str]:
        rng = random.Random(11)
        pool = []
        for index in range(count):
            words = rng.choices(WORDS, k=rng.randint(18, 60))
            if index % 200 == 0:
                words.insert(rng.randint(0, len(words)), SEARCH_WORD)
            pool.append(" ".join(words).capitalize() + ".")
        return pool

    def _step(self, name: str, work: Callable[[], int]) -> None:
        started = time.perf_counter()
        count = work()
        elapsed = time.perf_counter() - started
        self.timings[name] = round(elapsed, 2)
        self.counts[name] = count
        self.log(f"seed {name}: {count:,} rows in {elapsed:.1f} s")

    # -- the run -----------------------------------------------------------------------------

    def run(self) -> dict:
        from billing.models import Invoice, InvoiceLine
        from tickets.models import Ticket, TicketEvent, TicketMessage

        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SET maintenance_work_mem = '512MB'")
            cursor.execute("SELECT set_config('csp.rls_bypass', 'on', false)")
            # Inside a transaction (the smoke test), deferred foreign-key checks would stop the
            # ALTER TABLEs that follow the load; checked per statement instead.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        big = [Ticket, TicketMessage, TicketEvent, Invoice, InvoiceLine]
        dropped = self._drop_secondary_indexes(big)
        # COPY refuses tables under forced row-level security; the owner loads them with the
        # policies lifted, and they are put back (and checked) whatever happens.
        self._lift_row_level_security()
        try:
            self._load()
        finally:
            from csp_portal.accounts.tenancy import install_row_level_security

            install_row_level_security()
        self._step("indexes", lambda: self._recreate_indexes(dropped))
        self._step("counters_and_sequences", self.counters_and_sequences)
        self._step("analyze", self.analyze)
        self.timings["total"] = round(time.perf_counter() - started, 1)
        return {"timings_s": self.timings, "rows": self.counts}

    def _lift_row_level_security(self) -> None:
        from csp_portal.accounts.tenancy import tenant_models

        with connection.cursor() as cursor:
            for model in tenant_models():
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")

    def _load(self) -> None:
        self._step("partners", self.partners)
        self._step("users", self.users)
        self._step("customers", self.customers)
        self._step("memberships", self.memberships)
        self._step("customer_contacts", self.contacts)
        self._step("per_partner_settings", self.per_partner)
        self._step("subscriptions", self.subscriptions)
        self._step("tickets", self.tickets)
        self._step("ticket_messages", self.messages)
        self._step("ticket_events", self.events)
        self._step("invoices", self.invoices)
        self._step("invoice_lines", self.lines)
        self._step("reminders", self.reminders)
        self._step("search_vectors", self.search_vectors)
        self._step("ticket_counters", self.ticket_counters)

    def _drop_secondary_indexes(self, models) -> list[str]:
        """Indexes that back no constraint, dropped for the load (rebuilt once after it)."""
        definitions = []
        with connection.cursor() as cursor:
            for model in models:
                cursor.execute(
                    """
                    SELECT i.indexname, i.indexdef FROM pg_indexes i
                    WHERE i.schemaname = 'public' AND i.tablename = %s
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
                    """,
                    [model._meta.db_table],
                )
                for name, definition in cursor.fetchall():
                    definitions.append(definition)
                    cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        return definitions

    def _recreate_indexes(self, definitions: list[str]) -> int:
        with connection.cursor() as cursor:
            for definition in definitions:
                cursor.execute(definition)
        return len(definitions)

    # -- tables ------------------------------------------------------------------------------

    def partners(self) -> int:
        from csp_portal.accounts.models import Partner

        rows = (
            (
                p,
                slug(p),
                f"Bench Partner {p:04d}",
                f"Bench Partner {p:04d} B.V.",
                "direct_bill",
                None,
                None,
                f"support@{slug(p)}.example",
                NOW,
            )
            for p in range(1, self.plan.partners + 1)
        )
        columns = [
            "id",
            "slug",
            "display_name",
            "legal_name",
            "kind",
            "provider_id",
            "custom_domain",
            "support_email",
            "created_at",
        ]
        return copy_rows(Partner, columns, rows)

    def users(self) -> int:
        from csp_portal.accounts.models import User

        plan = self.plan

        def rows():
            for partner, staff in plan.staff_of.items():
                for index, user in enumerate(staff):
                    yield (
                        user,
                        f"staff{index}.p{partner}@bench.example",
                        f"Agent {index} of {partner}",
                        "!",
                        False,
                        NOW,
                    )
            for customer in range(1, self.sizes.customers + 1):
                yield (
                    plan.contact_user(customer),
                    f"contact.c{customer}@bench.example",
                    f"Contact {customer}",
                    "!",
                    False,
                    NOW,
                )

        columns = ["id", "email", "full_name", "password", "is_superuser", "date_joined"]
        return copy_rows(User, columns, rows())

    def customers(self) -> int:
        from csp_portal.accounts.models import Customer

        plan = self.plan
        rows = (
            (
                c,
                plan.partner_of_customer[c],
                f"Customer {c:06d} Ltd",
                f"customer{c}.example",
                f"00000000-0000-4000-8000-{c:012d}",
                f"billing@customer{c}.example",
                NOW,
            )
            for c in range(1, self.sizes.customers + 1)
        )
        columns = [
            "id",
            "partner_id",
            "company_name",
            "primary_domain",
            "microsoft_tenant_id",
            "billing_email",
            "created_at",
        ]
        return copy_rows(Customer, columns, rows)

    def memberships(self) -> int:
        from csp_portal.accounts.models import Membership

        def rows():
            ident = 0
            for partner, staff in self.plan.staff_of.items():
                for index, user in enumerate(staff):
                    ident += 1
                    roles = (
                        ["global_admin"]
                        if index == 0
                        else ["billing_admin"]
                        if index == 1
                        else ["helpdesk_agent"]
                    )
                    yield ident, partner, user, roles, True, NOW

        columns = ["id", "partner_id", "user_id", "roles", "is_active", "created_at"]
        return copy_rows(Membership, columns, rows())

    def contacts(self) -> int:
        from csp_portal.accounts.models import CustomerContact

        plan = self.plan
        rows = (
            (c, plan.partner_of_customer[c], c, plan.contact_user(c), "admin", True, NOW)
            for c in range(1, self.sizes.customers + 1)
        )
        columns = ["id", "partner_id", "customer_id", "user_id", "role", "is_active", "created_at"]
        return copy_rows(CustomerContact, columns, rows)

    def per_partner(self) -> int:
        from billing.models import BillingProfile, CollectionPolicy

        partners = range(1, self.plan.partners + 1)
        count = copy_rows(
            BillingProfile,
            ["id", "partner_id", "markup_percent", "payment_terms_days", "four_eyes_suspensions"],
            ((p, p, "10.00", 30, False) for p in partners),
        )
        count += copy_rows(
            CollectionPolicy,
            [
                "id",
                "partner_id",
                "version",
                "reminder_steps",
                "final_notice_day",
                "grace_days",
                "suspend_scope",
                "minimum_overdue_amount",
                "currency",
                "reinstate_on_payment",
                "notes",
                "published_at",
                "published_by_id",
            ],
            (
                (p, p, 1, ["1", "7", "14"], 14, 7, "overdue_only", "0.00", "EUR", True, "",
                 NOW - timedelta(days=400), self.plan.staff_of[p][0])
                for p in partners
            ),
        )  # fmt: skip
        return count

    def subscriptions(self) -> int:
        from billing.models import Subscription

        plan = self.plan

        def rows():
            for c in range(1, self.sizes.customers + 1):
                for k in range(SUBSCRIPTIONS_PER_CUSTOMER):
                    ident = (c - 1) * SUBSCRIPTIONS_PER_CUSTOMER + k + 1
                    yield (
                        ident,
                        plan.partner_of_customer[c],
                        c,
                        f"5a1e0000-0000-4000-9000-{ident:012d}",
                        "Microsoft 365 Business Premium" if k == 0 else "Azure plan",
                        "microsoft_365" if k == 0 else "azure",
                        10 + k,
                        "monthly",
                        "active",
                        "",
                        NOW,
                    )

        columns = [
            "id",
            "partner_id",
            "customer_id",
            "partner_center_id",
            "offer_name",
            "product_family",
            "quantity",
            "billing_cycle",
            "status",
            "suspension_reason",
            "created_at",
        ]
        return copy_rows(Subscription, columns, rows())

    def _ticket_plan(self) -> Iterator[tuple]:
        """(ticket id, partner, customer, number, created_at, status, assignee) — the same
        sequence every time it is walked (its own random generator)."""
        rng = random.Random(23)
        plan = self.plan
        numbers = dict.fromkeys(range(1, plan.partners + 1), 1000)
        span = 730 * 86400
        statuses = ["new", "open", "waiting_on_customer", "waiting_on_microsoft"]
        for ticket in range(1, self.sizes.tickets + 1):
            partner = plan.partner_for_row(rng)
            customers = plan.customers_of[partner] or plan.customers_of[1]
            customer = customers[rng.randrange(len(customers))]
            numbers[partner] += 1
            # Older tickets first: ids follow creation time, as in a real desk.
            created = NOW - timedelta(seconds=span * (1 - ticket / (self.sizes.tickets + 1)))
            roll = rng.random()
            status = (
                statuses[int(roll * 40) % 4]
                if roll < 0.1
                else "resolved"
                if roll < 0.2
                else "closed"
            )
            staff = plan.staff_of[partner]
            assignee = None if rng.random() < 0.2 else staff[rng.randrange(len(staff))]
            yield ticket, partner, customer, numbers[partner], created, status, assignee
        self.numbers = numbers

    def tickets(self) -> int:
        from tickets.models import Ticket

        plan = self.plan
        subjects = [
            "Cannot sign in to Outlook",
            "Invoice question for last month",
            "Add 5 Microsoft 365 seats",
            "Azure VM not reachable",
            "Teams calls drop",
            "Licence renewal",
            "SharePoint access denied",
            "Defender alert on laptop",
        ]
        kinds = {0: "technical", 1: "billing", 2: "subscription"}
        products = ["microsoft_365", "microsoft_365", "microsoft_365", "azure", "microsoft_365",
                    "microsoft_365", "microsoft_365", "microsoft_365"]  # fmt: skip

        def rows():
            for ticket, partner, customer, number, created, status, assignee in self._ticket_plan():
                which = ticket % len(subjects)
                updated = created + timedelta(hours=6)
                open_ = status not in ("resolved", "closed")
                yield (
                    ticket,
                    partner,
                    number,
                    f"BEN-{number}",
                    customer,
                    plan.contact_user(customer),
                    kinds.get(which % 3, "technical"),
                    products[which],
                    subjects[which],
                    status,
                    ("low", "normal", "normal", "high")[ticket % 4],
                    assignee,
                    "portal",
                    created,
                    updated,
                    created + timedelta(hours=1),
                    None if open_ else updated,
                    updated if status == "closed" else None,
                    created + timedelta(hours=4),
                    created + timedelta(days=3) if open_ else None,
                    "",
                )

        columns = [
            "id",
            "partner_id",
            "number",
            "reference",
            "customer_id",
            "requester_id",
            "kind",
            "product",
            "subject",
            "status",
            "priority",
            "assignee_id",
            "channel",
            "created_at",
            "updated_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "first_response_due_at",
            "resolution_due_at",
            "csat_comment",
        ]
        return copy_rows(Ticket, columns, rows())

    def messages(self) -> int:
        from tickets.models import TicketMessage

        plan = self.plan
        pool = self.body_pool
        size = len(pool)

        def rows():
            ident = 0
            for ticket, partner, customer, _n, created, _s, assignee in self._ticket_plan():
                requester = plan.contact_user(customer)
                agent = assignee or plan.staff_of[partner][-1]
                for k in range(MESSAGES_PER_TICKET):
                    ident += 1
                    from_customer = k % 2 == 0
                    yield (
                        ident,
                        partner,
                        ticket,
                        requester if from_customer else agent,
                        pool[(ident * 7919) % size],
                        "markdown",
                        not (k == 3 and ticket % 10 == 0),
                        from_customer,
                        created + timedelta(minutes=30 * k),
                    )

        columns = [
            "id",
            "partner_id",
            "ticket_id",
            "author_id",
            "body",
            "body_format",
            "is_public",
            "is_from_customer",
            "created_at",
        ]
        return copy_rows(TicketMessage, columns, rows())

    def events(self) -> int:
        from tickets.models import TicketEvent

        plan = self.plan
        rows = (
            (ticket, partner, ticket, plan.contact_user(customer), "created", {}, created)
            for ticket, partner, customer, _n, created, _s, _a in self._ticket_plan()
        )
        columns = ["id", "partner_id", "ticket_id", "actor_id", "kind", "data", "created_at"]
        return copy_rows(TicketEvent, columns, rows)

    def _invoice_plan(self) -> Iterator[tuple]:
        """(invoice, partner, customer, due_date, status): 80 % paid; of the open ones 20 %
        overdue (1–120 days), the rest due in the coming month."""
        rng = random.Random(31)
        plan = self.plan
        for invoice in range(1, self.sizes.invoices + 1):
            partner = plan.partner_for_row(rng)
            customers = plan.customers_of[partner] or plan.customers_of[1]
            customer = customers[rng.randrange(len(customers))]
            roll = rng.random()
            if roll < 0.8:
                status, due = "paid", TODAY - timedelta(days=rng.randint(30, 700))
            elif roll < 0.84:
                status, due = "open", TODAY - timedelta(days=rng.randint(1, 120))
            else:
                status, due = "open", TODAY + timedelta(days=rng.randint(0, 29))
            yield invoice, partner, customer, due, status

    def invoices(self) -> int:
        from billing.models import Invoice

        def rows():
            for invoice, partner, customer, due, status in self._invoice_plan():
                subtotal = 100 + invoice % 900
                tax = subtotal * 21 // 100
                total = f"{subtotal + tax}.00"
                yield (
                    invoice,
                    partner,
                    customer,
                    f"INV-{invoice:08d}",
                    "EUR",
                    due - timedelta(days=30),
                    due,
                    status,
                    f"{subtotal}.00",
                    f"{tax}.00",
                    total,
                    total if status == "paid" else "0.00",
                    "",
                    NOW,
                )

        columns = [
            "id",
            "partner_id",
            "customer_id",
            "number",
            "currency",
            "issue_date",
            "due_date",
            "status",
            "subtotal",
            "tax_total",
            "total",
            "amount_paid",
            "partner_center_invoice",
            "created_at",
        ]
        return copy_rows(Invoice, columns, rows())

    def lines(self) -> int:
        from billing.models import InvoiceLine

        def rows():
            ident = 0
            for invoice, partner, customer, due, _status in self._invoice_plan():
                subtotal = 100 + invoice % 900
                first = subtotal // 2
                for k, amount in enumerate((first, subtotal - first)):
                    ident += 1
                    subscription = (customer - 1) * SUBSCRIPTIONS_PER_CUSTOMER + k + 1
                    yield (
                        ident,
                        partner,
                        invoice,
                        subscription,
                        "Microsoft 365 Business Premium" if k == 0 else "Azure plan",
                        "1.0000",
                        f"{amount}.0000",
                        f"{amount}.00",
                        "EUR",
                        "cycle",
                        due - timedelta(days=60),
                        due - timedelta(days=31),
                    )

        columns = [
            "id",
            "partner_id",
            "invoice_id",
            "subscription_id",
            "description",
            "quantity",
            "unit_price",
            "amount",
            "currency",
            "charge_type",
            "period_start",
            "period_end",
        ]
        return copy_rows(InvoiceLine, columns, rows())

    def reminders(self) -> int:
        """A final notice already sent (grace passed) on every tenth invoice overdue 21+ days,
        so the sweep has suspensions to request, as well as reminders to send."""
        from billing.models import ReminderSent

        def rows():
            ident = 0
            for invoice, partner, _customer, due, status in self._invoice_plan():
                if status != "open" or (TODAY - due).days < 21 or invoice % 10:
                    continue
                ident += 1
                yield ident, partner, invoice, 14, True, partner, due + timedelta(days=14), NOW, ""

        columns = [
            "id",
            "partner_id",
            "invoice_id",
            "step",
            "is_final_notice",
            "policy_id",
            "sent_on",
            "created_at",
            "emailed_to",
        ]
        return copy_rows(ReminderSent, columns, rows())

    def search_vectors(self, batch: int = 50_000) -> int:
        """The vector tickets.services.ticket_search_vector_refresh keeps, computed in SQL in
        id ranges (reference and subject weighted A, the messages B, the partner's scope
        word D: tickets.search)."""
        from tickets.search import SCOPE_VECTOR_SQL

        done = 0
        with connection.cursor() as cursor:
            for low in range(1, self.sizes.tickets + 1, batch):
                high = low + batch - 1
                cursor.execute(
                    """
                    UPDATE tickets_ticket t SET search_vector =
                        setweight(to_tsvector('simple', coalesce(t.reference, '') || ' ' ||
                                  coalesce(t.subject, '')), 'A') ||
                        setweight(to_tsvector('simple', coalesce(m.text, '')), 'B') ||
                        {scope}
                    FROM (SELECT ticket_id, string_agg(body, ' ') AS text
                          FROM tickets_ticketmessage WHERE ticket_id BETWEEN %s AND %s
                          GROUP BY ticket_id) m
                    WHERE t.id = m.ticket_id AND t.id BETWEEN %s AND %s
                    """.replace("{scope}", SCOPE_VECTOR_SQL),
                    [low, high, low, high],
                )
                done += cursor.rowcount
        return done

    def ticket_counters(self) -> int:
        from tickets.models import TicketCounter

        numbers = getattr(self, "numbers", {})
        return copy_rows(
            TicketCounter,
            ["id", "partner_id", "prefix", "last_number"],
            (
                (p, p, reference_prefix(p), numbers.get(p, 1000))
                for p in range(1, self.plan.partners + 1)
            ),
        )

    def counters_and_sequences(self) -> int:
        from django.apps import apps

        count = 0
        with connection.cursor() as cursor:
            for model in apps.get_models():
                table = model._meta.db_table
                pk = model._meta.pk
                if not pk or pk.get_internal_type() not in ("AutoField", "BigAutoField"):
                    continue
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, pk.column])
                sequence = cursor.fetchone()[0]
                if not sequence:
                    continue
                cursor.execute(
                    f"SELECT setval(%s, coalesce((SELECT max({pk.column}) FROM {table}), 0) + 1, "  # noqa: S608
                    "false)",
                    [sequence],
                )
                count += 1
        return count

    def analyze(self) -> int:
        # The search-vector update left a dead version of every ticket row behind.
        with connection.cursor() as cursor:
            # VACUUM cannot run in a transaction (the smoke test seeds inside one).
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
        return 1
