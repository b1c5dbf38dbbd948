"""Background work measured in a process of its own (so its peak RSS is its own), as the
app role, against a seeded benchmark database; prints one JSON object.

    python -m bench.jobs sweep | pdf N | import LINES
"""

from __future__ import annotations

import csv
import json
import os
import resource
import sys
import tempfile
import time
import uuid

import psutil


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def _peak_mb() -> float:
    """This process's peak RSS. VmHWM belongs to the process's own memory map, which exec
    starts afresh; getrusage's ru_maxrss on Linux keeps the parent's peak across fork and
    exec, so a job started by a large parent would report the parent's peak."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def undo_sweep() -> None:
    """A database kept from an earlier run (BENCH_REUSE): what that run's sweep did."""
    from django.utils import timezone

    from billing.models import BillingEvent, ReminderSent, Suspension, SweepRun
    from csp_portal.accounts.tenancy import partner_scope

    with partner_scope(None, bypass=True):
        ReminderSent.objects.unscoped().filter(sent_on=timezone.localdate()).delete()
        for model in (Suspension, SweepRun, BillingEvent):
            model.objects.unscoped().all().delete()


def undo_import() -> None:
    """A database kept from an earlier run (BENCH_REUSE): what that run's import added to
    partner 1 (its invoices would otherwise swell the open book the pages are measured on)."""
    from billing.models import Invoice, InvoiceLine, ReconciliationImport, Subscription
    from csp_portal.accounts.tenancy import partner_scope

    with partner_scope(1):
        imported = Invoice.objects.for_partner(1).filter(partner_center_invoice__startswith="G")
        InvoiceLine.objects.for_partner(1).filter(invoice__in=imported).delete()
        imported.delete()
        Subscription.objects.for_partner(1).filter(
            partner_center_id__startswith="00000000-0000-0001-"
        ).delete()
        ReconciliationImport.objects.for_partner(1).all().delete()


def sweep() -> dict:
    """The collections sweep of every partner, in-process, as the daily fan-out would start
    it (the partners with nothing to sweep recorded at once, then one `sweep_partner` per
    partner with candidates); reminders and Partner Center calls are queued on the broker,
    not carried out."""
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from billing import collections
    from billing.models import Invoice
    from csp_portal.accounts.models import Partner
    from csp_portal.accounts.tenancy import partner_scope

    today = timezone.localdate()
    undo_sweep()
    with partner_scope(None, bypass=True):
        open_count = Invoice.objects.unscoped().filter(status__in=Invoice.OPEN_STATUSES).count()
        overdue = (
            Invoice.objects.unscoped()
            .filter(status__in=Invoice.OPEN_STATUSES, due_date__lt=today)
            .count()
        )
    partner_ids = list(Partner.objects.order_by("pk").values_list("pk", flat=True))
    counter = QueryCounter()
    before = _rss_mb()
    started = time.perf_counter()
    reminders = suspensions = 0
    with connection.execute_wrapper(counter):
        to_sweep, empty = collections.partners_with_candidates(
            [(partner_id, today) for partner_id in partner_ids]
        )
        collections.record_empty_runs(empty)
        for partner_id, run_date in to_sweep:
            r, s = collections.sweep_partner(partner_id=partner_id, run_date=run_date)
            reminders += r
            suspensions += s
    elapsed = time.perf_counter() - started
    # Each partner's sweep is at least one batch (with its fixed work) plus one per 500
    # candidates beyond the first.
    with partner_scope(None, bypass=True):
        per_partner = dict(
            Invoice.objects.unscoped()
            .filter(status__in=Invoice.OPEN_STATUSES, due_date__lt=today)
            .values_list("partner_id")
            .annotate(n=Count("pk"))
        )
    batches = sum(
        max(1, -(-per_partner.get(pid, 0) // collections.BATCH_SIZE)) for pid in partner_ids
    )
    return {
        "open_invoices": open_count,
        "overdue_invoices": overdue,
        "partners": len(partner_ids),
        "wall_s": round(elapsed, 2),
        "queries": counter.count,
        "queries_per_partner": round(counter.count / len(partner_ids), 1),
        "batch_size": collections.BATCH_SIZE,
        "batches": batches,
        "reminders_queued": reminders,
        "suspensions_requested": suspensions,
        "rss_before_mb": round(before, 1),
        "rss_peak_mb": round(_peak_mb(), 1),
        "rss_growth_mb": round(_peak_mb() - before, 1),
    }


def pdf(count: int) -> dict:
    """Reminder letters rendered with WeasyPrint, one after another."""
    from billing import documents
    from billing.models import ReminderSent
    from csp_portal.accounts.tenancy import partner_scope

    with partner_scope(1):
        reminders = list(
            ReminderSent.objects.for_partner(1)
            .select_related("invoice__customer", "invoice__partner", "policy")
            .order_by("pk")[:count]
        )
        if not reminders:
            return {"letters": 0}
        documents.reminder_pdf(reminders[0])  # fonts and templates loaded once
        started = time.perf_counter()
        size = 0
        for reminder in reminders:
            size += len(documents.reminder_pdf(reminder))
        elapsed = time.perf_counter() - started
    return {
        "letters": len(reminders),
        "wall_s": round(elapsed, 2),
        "letters_per_s": round(len(reminders) / elapsed, 2),
        "average_kb": round(size / len(reminders) / 1024, 1),
        "rss_peak_mb": round(_peak_mb(), 1),
    }


def write_reconciliation(path: str, lines: int) -> int:
    """A Partner Center reconciliation file (the 46-column layout) for partner 1's customers:
    ten lines per invoice, two per subscription, amounts in EUR."""
    from billing.reconciliation import COLUMNS
    from csp_portal.accounts.models import Customer
    from csp_portal.accounts.tenancy import partner_scope

    with partner_scope(1):
        tenants = list(
            Customer.objects.for_partner(1)
            .order_by("pk")
            .values_list("microsoft_tenant_id", "company_name")
        )
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for line in range(lines):
            tenant, name = tenants[(line // 10) % len(tenants)]
            invoice = f"G{line // 10:09d}"
            # Five subscriptions per invoice, two lines each (a cycle charge and a change).
            subscription = str(uuid.UUID(int=(line // 2) + 2**64))
            values = {
                "PartnerId": "bench-partner",
                "CustomerId": str(tenant),
                "CustomerName": name,
                "CustomerDomainName": "example.com",
                "CustomerCountry": "NL",
                "InvoiceNumber": invoice,
                "MpnId": "1234567",
                "ResellerMpnId": "0",
                "OrderId": f"order-{line}",
                "OrderDate": "10/01/2026",
                "ProductId": "CFQ7TTC0LH18",
                "SkuId": "0001",
                "AvailabilityId": "CFQ7TTC0LDPB",
                "SkuName": "Microsoft 365 Business Basic",
                "ProductName": "Microsoft 365 Business Basic",
                "ChargeType": "cycle",
                "UnitPrice": "5.60",
                "Quantity": "3",
                "Subtotal": "16.80",
                "TaxTotal": "3.53",
                "Total": "20.33",
                "Currency": "EUR",
                "PriceAdjustmentDescription": "[]",
                "PublisherName": "Microsoft Corporation",
                "PublisherId": "",
                "SubscriptionDescription": "Microsoft 365 Business Basic",
                "SubscriptionId": subscription,
                "ChargeStartDate": "10/01/2026",
                "ChargeEndDate": "10/31/2026",
                "TermAndBillingCycle": "One-Year commitment for monthly/yearly billing",
                "EffectiveUnitPrice": "5.60",
                "UnitType": "Licenses",
                "AlternateId": f"alt{line}",
                "BillableQuantity": "3",
                "BillingFrequency": "Monthly",
                "PricingCurrency": "EUR",
                "PCToBCExchangeRate": "1",
                "PCToBCExchangeRateDate": "09/30/2026",
                "MeterDescription": "",
                "ReservationOrderId": "",
                "CreditReasonCode": "",
                "SubscriptionStartDate": "10/01/2025",
                "SubscriptionEndDate": "09/30/2027",
                "ReferenceId": "",
                "ProductQualifiers": "[]",
                "PromotionId": "",
            }
            writer.writerow([values[name] for name in COLUMNS])
    return os.path.getsize(path)


def import_file(lines: int) -> dict:
    """billing.reconciliation.reconciliation_import of a generated file, as a billing admin of
    partner 1 would upload it."""
    from django.db import connection

    from billing.reconciliation import reconciliation_import
    from csp_portal.accounts.models import Partner
    from csp_portal.accounts.tenancy import partner_scope

    undo_import()
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "reconciliation.csv")
        size = write_reconciliation(path, lines)
        before = _rss_mb()
        counter = QueryCounter()
        started = time.perf_counter()
        with partner_scope(1), connection.execute_wrapper(counter):
            partner = Partner.objects.get(pk=1)
            with open(path, "rb") as handle:
                result = reconciliation_import(
                    partner=partner, file_name="bench.csv", content=handle
                )
        elapsed = time.perf_counter() - started
    return {
        "lines": lines,
        "file_mb": round(size / 2**20, 1),
        "wall_s": round(elapsed, 2),
        "lines_per_s": round(lines / elapsed),
        "queries": counter.count,
        "invoices": len(result.invoice_ids),
        "rss_before_mb": round(before, 1),
        "rss_peak_mb": round(_peak_mb(), 1),
        "rss_growth_mb": round(_peak_mb() - before, 1),
    }


def main(argv: list[str]) -> int:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    job = argv[0]
    if job == "sweep":
        result = sweep()
    elif job == "pdf":
        result = pdf(int(argv[1]))
    elif job == "import":
        result = import_file(int(argv[1]))
    else:
        raise SystemExit(f"unknown job {job}")
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
