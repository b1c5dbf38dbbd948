"""Changes to billing data. Each function is keyword-only and atomic, writes a timeline row
(`BillingEvent`) and sends its Celery work after commit. The collections sweep lives in
`billing.collections`, the reconciliation import in `billing.reconciliation`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from csp_portal import outbox
from csp_portal.accounts.models import Customer
from csp_portal.webhooks import payloads as webhook_payloads
from csp_portal.webhooks.services import webhook_emit

from . import selectors
from .currency import parse_amount, round_money, validate_currency
from .models import (
    BillingEvent,
    BillingProfile,
    CollectionPolicy,
    Invoice,
    InvoiceHold,
    Payment,
    PaymentAllocation,
    PolicyAcknowledgement,
    Subscription,
    Suspension,
)

ZERO = Decimal("0.00")


def event_record(*, partner_id, kind, customer_id=None, invoice_id=None, actor=None, **data):
    return BillingEvent.objects.create(
        partner_id=partner_id,
        customer_id=customer_id,
        invoice_id=invoice_id,
        kind=kind,
        actor=actor,
        data=data,
    )


def _after_commit(task, **kwargs) -> None:
    outbox.enqueue(task, **kwargs)


def _sync_after_commit(suspension: Suspension) -> None:
    from .tasks import suspension_sync

    _after_commit(suspension_sync, partner_id=suspension.partner_id, suspension_id=suspension.pk)


# -- billing settings and the collection policy ------------------------------------------------


def billing_profile_get(*, partner) -> BillingProfile:
    partner_id = getattr(partner, "pk", partner)
    profile, _created = BillingProfile.objects.for_partner(partner_id).get_or_create(
        partner_id=partner_id
    )
    return profile


@transaction.atomic
def billing_profile_update(
    *, partner, markup_percent, payment_terms_days: int, four_eyes_suspensions: bool
) -> BillingProfile:
    markup = parse_amount(markup_percent, allow_zero=True)
    if markup > 1000:
        raise ValidationError({"markup_percent": _("A mark-up above 1000% is not plausible.")})
    profile = billing_profile_get(partner=partner)
    profile.markup_percent = markup
    profile.payment_terms_days = payment_terms_days
    profile.four_eyes_suspensions = four_eyes_suspensions
    profile.save()
    return profile


def _parse_steps(reminder_steps) -> list[int]:
    if isinstance(reminder_steps, str):
        reminder_steps = [
            part for part in reminder_steps.replace(";", ",").split(",") if part.strip()
        ]
    steps = []
    for position, raw in enumerate(reminder_steps, start=1):
        try:
            steps.append(int(str(raw).strip()))
        except ValueError:
            raise ValidationError(
                {
                    "reminder_steps": _(
                        "Step %(position)s (%(value)s) is not a whole number of days."
                    )
                    % {"position": position, "value": str(raw).strip()}
                }
            ) from None
    return steps


@transaction.atomic
def collection_policy_publish(
    *,
    partner,
    reminder_steps,
    final_notice_day: int,
    grace_days: int,
    suspend_scope: str,
    minimum_overdue_amount,
    currency: str,
    reinstate_on_payment: bool,
    notes: str = "",
    acting_user=None,
) -> CollectionPolicy:
    """Publish a new version. Steps must be in increasing order and the final notice must be
    the last step: a policy the customer can read is one the sweep can follow literally."""
    steps = _parse_steps(reminder_steps)
    errors: dict[str, str] = {}
    if not steps:
        errors["reminder_steps"] = _("Give at least one reminder step.")
    elif len(steps) > 10:
        errors["reminder_steps"] = _("At most ten reminder steps.")
    else:
        for position in range(1, len(steps)):
            if steps[position] <= steps[position - 1]:
                errors["reminder_steps"] = _(
                    "The steps must be in increasing order: step %(position)s (%(value)s days) "
                    "does not come after step %(previous)s (%(before)s days)."
                ) % {
                    "position": position + 1,
                    "value": steps[position],
                    "previous": position,
                    "before": steps[position - 1],
                }
                break
        if any(abs(step) > 365 for step in steps):
            errors["reminder_steps"] = _("A step is at most 365 days from the due date.")
    if steps and "reminder_steps" not in errors and int(final_notice_day) != steps[-1]:
        errors["final_notice_day"] = _(
            "The final notice must be the last step (%(last)s days), not %(value)s."
        ) % {"last": steps[-1], "value": final_notice_day}
    if steps and steps[-1] <= 0 and "reminder_steps" not in errors:
        errors["reminder_steps"] = _("The final notice must come after the due date.")
    if int(grace_days) < 1:
        errors["grace_days"] = _("Give at least one day of grace after the final notice.")
    try:
        minimum = parse_amount(minimum_overdue_amount, allow_zero=True)
    except ValidationError as error:
        errors["minimum_overdue_amount"] = error.messages[0]
    try:
        currency = validate_currency(currency)
    except ValidationError as error:
        errors["currency"] = error.messages[0]
    if suspend_scope not in CollectionPolicy.SuspendScope.values:
        errors["suspend_scope"] = _("Choose which subscriptions are suspended.")
    if errors:
        raise ValidationError(errors)
    partner_id = getattr(partner, "pk", partner)
    # One publisher at a time: the partner's billing profile row serialises versions.
    BillingProfile.objects.for_partner(partner_id).select_for_update().filter(
        pk=billing_profile_get(partner=partner_id).pk
    ).first()
    latest = CollectionPolicy.objects.for_partner(partner_id).order_by("-version").first()
    policy = CollectionPolicy.objects.create(
        partner_id=partner_id,
        version=(latest.version + 1) if latest else 1,
        reminder_steps=steps,
        final_notice_day=steps[-1],
        grace_days=int(grace_days),
        suspend_scope=suspend_scope,
        minimum_overdue_amount=round_money(minimum),
        currency=currency,
        reinstate_on_payment=bool(reinstate_on_payment),
        notes=notes.strip(),
        published_at=timezone.now(),
        published_by=acting_user,
    )
    event_record(
        partner_id=partner_id,
        kind=BillingEvent.Kind.POLICY_PUBLISHED,
        actor=acting_user,
        version=policy.version,
    )
    return policy


@transaction.atomic
def policy_acknowledge(*, policy: CollectionPolicy, contact) -> PolicyAcknowledgement:
    if not contact.is_admin or contact.partner_id != policy.partner_id:
        raise ValidationError(_("Only a customer admin can acknowledge the collection policy."))
    ack, created = PolicyAcknowledgement.objects.for_partner(policy.partner_id).get_or_create(
        partner_id=policy.partner_id,
        policy=policy,
        customer_id=contact.customer_id,
        defaults={"user": contact.user},
    )
    if created:
        event_record(
            partner_id=policy.partner_id,
            kind=BillingEvent.Kind.POLICY_ACKNOWLEDGED,
            customer_id=contact.customer_id,
            actor=contact.user,
            version=policy.version,
        )
    return ack


# -- payments ------------------------------------------------------------------------------


@transaction.atomic
def payment_record(
    *,
    partner,
    customer: Customer,
    amount,
    currency: str,
    received_on: date,
    method: str,
    reference: str = "",
    acting_user=None,
) -> Payment:
    """Record a payment and allocate it, with any credit the customer has, to its open
    invoices oldest first. What is left over stays on the payment as credit, never lost.
    Reinstatement is checked after commit (billing.tasks.collections_reinstate_if_settled)."""
    if customer.partner_id != partner.pk:
        raise ValidationError(_("Unknown customer."))
    errors = {}
    try:
        amount = parse_amount(amount)
        if amount != round_money(amount):
            raise ValidationError(_("Use at most two decimals (%(value)s).") % {"value": amount})
    except ValidationError as error:
        errors["amount"] = error.messages[0]
    try:
        currency = validate_currency(currency)
    except ValidationError as error:
        errors["currency"] = error.messages[0]
    if method not in Payment.Method.values:
        errors["method"] = _("Choose how the payment was made.")
    if received_on is None or received_on > timezone.localdate(timezone=partner.tz):
        errors["received_on"] = _("The payment date cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    # Lock the customer: payments of one customer are allocated one at a time.
    Customer.objects.for_partner(partner).select_for_update().get(pk=customer.pk)
    payment = Payment.objects.create(
        partner=partner,
        customer=customer,
        amount=amount,
        currency=currency,
        received_on=received_on,
        method=method,
        reference=reference.strip()[:100],
        unallocated=amount,
        recorded_by=acting_user,
    )
    allocations = credit_allocate(partner=partner, customer=customer, currency=currency)
    payment.refresh_from_db()
    event_record(
        partner_id=partner.pk,
        kind=BillingEvent.Kind.PAYMENT_RECORDED,
        customer_id=customer.pk,
        actor=acting_user,
        payment_id=payment.pk,
        amount=str(amount),
        currency=currency,
        allocated={str(invoice_id): str(value) for invoice_id, value in allocations.items()},
        credit=str(payment.unallocated),
    )
    from .tasks import collections_reinstate_if_settled

    _after_commit(collections_reinstate_if_settled, partner_id=partner.pk, customer_id=customer.pk)
    return payment


def credit_allocate(*, partner, customer, currency: str) -> dict[int, Decimal]:
    """Allocate the customer's unallocated payments (oldest first) to its open invoices in
    `currency` (oldest due first). Caller holds the customer's lock. Returns invoice id ->
    amount allocated now."""
    payments = list(
        Payment.objects.for_partner(partner)
        .select_for_update()
        .filter(customer=customer, currency=currency, unallocated__gt=0)
        .order_by("received_on", "pk")
    )
    if not payments:
        return {}
    invoices = list(
        Invoice.objects.for_partner(partner)
        .select_for_update()
        .filter(customer=customer, currency=currency, status__in=Invoice.OPEN_STATUSES)
        .order_by("due_date", "issue_date", "pk")
    )
    allocated: dict[int, Decimal] = {}
    new_rows = []
    for invoice in invoices:
        for payment in payments:
            if invoice.balance <= 0:
                break
            if payment.unallocated <= 0:
                continue
            share = min(invoice.balance, payment.unallocated)
            payment.unallocated -= share
            invoice.amount_paid += share
            allocated[invoice.pk] = allocated.get(invoice.pk, ZERO) + share
            new_rows.append(
                PaymentAllocation(
                    partner_id=invoice.partner_id,
                    payment=payment,
                    invoice=invoice,
                    amount=share,
                    currency=currency,
                )
            )
        if invoice.pk in allocated:
            invoice.status = (
                Invoice.Status.PAID if invoice.balance <= 0 else Invoice.Status.PARTIALLY_PAID
            )
    PaymentAllocation.objects.bulk_create(new_rows)
    Payment.objects.for_partner(partner).bulk_update(payments, ["unallocated"])
    Invoice.objects.for_partner(partner).bulk_update(
        [invoice for invoice in invoices if invoice.pk in allocated], ["amount_paid", "status"]
    )
    return allocated


# -- disputes ------------------------------------------------------------------------------


@transaction.atomic
def invoice_hold_place(*, invoice: Invoice, reason: str, acting_user=None, ticket=None):
    """Keep the sweep away from a disputed invoice until the hold is released."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the invoice is on hold.")})
    existing = InvoiceHold.objects.for_partner(invoice.partner_id).filter(
        invoice=invoice, released_at__isnull=True
    )
    hold = existing.first()
    if hold is not None:
        return hold
    hold = InvoiceHold.objects.create(
        partner_id=invoice.partner_id,
        invoice=invoice,
        reason=reason,
        ticket=ticket,
        placed_by=acting_user,
    )
    event_record(
        partner_id=invoice.partner_id,
        kind=BillingEvent.Kind.HOLD_PLACED,
        customer_id=invoice.customer_id,
        invoice_id=invoice.pk,
        actor=acting_user,
        reason=reason,
    )
    return hold


@transaction.atomic
def invoice_hold_release(*, hold: InvoiceHold, note: str = "", acting_user=None) -> InvoiceHold:
    updated = (
        InvoiceHold.objects.for_partner(hold.partner_id)
        .filter(pk=hold.pk, released_at__isnull=True)
        .update(released_at=timezone.now(), released_by=acting_user, release_note=note.strip())
    )
    if updated:
        event_record(
            partner_id=hold.partner_id,
            kind=BillingEvent.Kind.HOLD_RELEASED,
            customer_id=hold.invoice.customer_id,
            invoice_id=hold.invoice_id,
            actor=acting_user,
            note=note.strip(),
        )
    hold.refresh_from_db()
    return hold


# -- suspensions ---------------------------------------------------------------------------


@transaction.atomic
def subscription_suspend(*, subscription: Subscription, note: str, acting_user) -> Suspension:
    """Suspend a subscription by hand, with a reason. With four-eyes on, it waits for a
    second person's approval."""
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Give the reason for the suspension.")})
    if subscription.status != Subscription.Status.ACTIVE:
        raise ValidationError(_("Only an active subscription can be suspended."))
    four_eyes = billing_profile_get(partner=subscription.partner_id).four_eyes_suspensions
    if (
        Suspension.objects.for_partner(subscription.partner_id)
        .filter(subscription=subscription, state__in=Suspension.OPEN_STATES)
        .exists()
    ):
        raise ValidationError(_("This subscription already has a suspension in progress."))
    suspension = Suspension.objects.create(
        partner_id=subscription.partner_id,
        customer_id=subscription.customer_id,
        subscription=subscription,
        reason=Suspension.Reason.MANUAL,
        note=note,
        state=(Suspension.State.AWAITING_APPROVAL if four_eyes else Suspension.State.REQUESTED),
        requested_by=acting_user,
    )
    event_record(
        partner_id=subscription.partner_id,
        kind=BillingEvent.Kind.SUSPENSION_REQUESTED,
        customer_id=subscription.customer_id,
        actor=acting_user,
        subscription=subscription.offer_name,
        note=note,
    )
    if suspension.state == Suspension.State.REQUESTED:
        _sync_after_commit(suspension)
    return suspension


def _lock_suspension(suspension: Suspension) -> Suspension:
    try:
        return (
            Suspension.objects.for_partner(suspension.partner_id)
            .select_for_update(nowait=True)
            .select_related("subscription")
            .get(pk=suspension.pk)
        )
    except DatabaseError:
        raise ValidationError(
            _("Partner Center is being updated for this subscription right now; try again shortly.")
        ) from None


@transaction.atomic
def suspension_approve(*, suspension: Suspension, acting_user) -> Suspension:
    locked = _lock_suspension(suspension)
    if locked.state != Suspension.State.AWAITING_APPROVAL:
        raise ValidationError(_("This suspension is not waiting for approval."))
    if locked.requested_by_id is not None and locked.requested_by_id == acting_user.pk:
        raise ValidationError(_("A second person must approve a suspension you requested."))
    locked.state = Suspension.State.REQUESTED
    locked.approved_by = acting_user
    locked.save(update_fields=["state", "approved_by"])
    event_record(
        partner_id=locked.partner_id,
        kind=BillingEvent.Kind.SUSPENSION_APPROVED,
        customer_id=locked.customer_id,
        invoice_id=locked.invoice_id,
        actor=acting_user,
        subscription=locked.subscription.offer_name,
    )
    _sync_after_commit(locked)
    return locked


@transaction.atomic
def suspension_skip(*, suspension: Suspension, note: str, acting_user) -> Suspension:
    locked = _lock_suspension(suspension)
    if locked.state != Suspension.State.AWAITING_APPROVAL:
        raise ValidationError(_("This suspension is not waiting for approval."))
    locked.state = Suspension.State.SKIPPED
    locked.reversal_reason = note.strip()
    locked.reversed_by = acting_user
    locked.reversed_at = timezone.now()
    locked.save(update_fields=["state", "reversal_reason", "reversed_by", "reversed_at"])
    event_record(
        partner_id=locked.partner_id,
        kind=BillingEvent.Kind.SUSPENSION_SKIPPED,
        customer_id=locked.customer_id,
        invoice_id=locked.invoice_id,
        actor=acting_user,
        subscription=locked.subscription.offer_name,
        note=note.strip(),
    )
    return locked


@transaction.atomic
def suspension_reinstate(*, suspension: Suspension, reason: str, acting_user=None) -> Suspension:
    """Reverse a suspension: one carried out goes back to `active` in Partner Center; one
    not carried out yet is cancelled."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the reinstatement.")})
    locked = _lock_suspension(suspension)
    return _reinstate_locked(locked, reason=reason, acting_user=acting_user)


def _reinstate_locked(locked: Suspension, *, reason: str, acting_user) -> Suspension:
    if locked.state in (Suspension.State.AWAITING_APPROVAL, Suspension.State.REQUESTED):
        locked.state = Suspension.State.CANCELLED
        locked.reversed_at = timezone.now()
    elif locked.state in (Suspension.State.APPLIED, Suspension.State.FAILED):
        locked.state = Suspension.State.REINSTATING
        locked.attempts = 0
        locked.last_error = ""
        locked.resumed_at = None  # the resume may hand this state's call on again
    else:
        raise ValidationError(_("This suspension is not in force."))
    locked.reversal_reason = reason
    locked.reversed_by = acting_user
    locked.save(
        update_fields=[
            "state",
            "reversed_at",
            "reversal_reason",
            "reversed_by",
            "attempts",
            "last_error",
            "resumed_at",
        ]
    )
    event_record(
        partner_id=locked.partner_id,
        kind=BillingEvent.Kind.REINSTATEMENT_REQUESTED,
        customer_id=locked.customer_id,
        invoice_id=locked.invoice_id,
        actor=acting_user,
        subscription=locked.subscription.offer_name,
        reason=reason,
    )
    if locked.state == Suspension.State.REINSTATING:
        _sync_after_commit(locked)
    return locked


@transaction.atomic
def suspension_retry(*, suspension: Suspension, acting_user) -> Suspension:
    locked = _lock_suspension(suspension)
    if locked.state != Suspension.State.FAILED:
        raise ValidationError(_("Only a failed suspension can be retried."))
    locked.state = Suspension.State.REQUESTED
    locked.save(update_fields=["state"])
    _sync_after_commit(locked)
    return locked


def reinstate_if_settled(*, partner, customer_id: int) -> list[Suspension]:
    """After a payment: when the policy says so and nothing is overdue any more (disputed
    invoices aside), reverse the customer's suspensions for non-payment."""
    policy = selectors.policy_current(partner=partner)
    if policy is None or not policy.reinstate_on_payment:
        return []
    today = timezone.localdate(timezone=partner.tz)
    if selectors.customer_overdue_total(partner=partner, customer_id=customer_id, today=today) > 0:
        return []
    suspensions = list(
        Suspension.objects.for_partner(partner)
        .select_for_update()
        .select_related("subscription")
        .filter(
            customer_id=customer_id,
            reason=Suspension.Reason.NON_PAYMENT,
            state__in=Suspension.OPEN_STATES,
        )
        .exclude(state=Suspension.State.REINSTATING)
    )
    return [
        _reinstate_locked(s, reason=_("The overdue amount was paid."), acting_user=None)
        for s in suspensions
    ]


def suspension_record_result(
    *, suspension: Suspension, target: str, error: str = "", final: bool = False
) -> None:
    """Write what Partner Center answered (caller holds the row lock)."""
    now = timezone.now()
    subscription = suspension.subscription
    suspension.attempts = F("attempts") + 1
    if error:
        suspension.last_error = error[:2000]
        fields = ["attempts", "last_error"]
        if final and suspension.state == Suspension.State.REQUESTED:
            suspension.state = Suspension.State.FAILED
            fields.append("state")
        suspension.save(update_fields=fields)
        if final:
            event_record(
                partner_id=suspension.partner_id,
                kind=BillingEvent.Kind.SUSPENSION_FAILED,
                customer_id=suspension.customer_id,
                invoice_id=suspension.invoice_id,
                subscription=subscription.offer_name,
                target=target,
                error=error[:500],
            )
        return
    suspension.last_error = ""
    if target == "suspended":
        suspension.state = Suspension.State.APPLIED
        suspension.applied_at = now
        subscription.status = Subscription.Status.SUSPENDED
        subscription.suspension_reason = (
            _("Non-payment")
            if suspension.reason == Suspension.Reason.NON_PAYMENT
            else suspension.note
        )[:200]
        kind = BillingEvent.Kind.SUSPENSION_APPLIED
    else:
        suspension.state = Suspension.State.REVERSED
        suspension.reversed_at = now
        subscription.status = Subscription.Status.ACTIVE
        subscription.suspension_reason = ""
        kind = BillingEvent.Kind.REINSTATED
    suspension.save(update_fields=["attempts", "last_error", "state", "applied_at", "reversed_at"])
    subscription.save(update_fields=["status", "suspension_reason"])
    _customer_status_follow(partner_id=suspension.partner_id, customer_id=suspension.customer_id)
    event_record(
        partner_id=suspension.partner_id,
        kind=kind,
        customer_id=suspension.customer_id,
        invoice_id=suspension.invoice_id,
        subscription=subscription.offer_name,
    )
    webhook_emit(
        partner=suspension.partner_id,
        event=f"subscription.{'suspended' if target == 'suspended' else 'reinstated'}",
        payload=webhook_payloads.suspension(suspension),
    )


def _customer_status_follow(*, partner_id, customer_id) -> None:
    """The customer shows as suspended while any of its subscriptions is."""
    suspended = (
        Subscription.objects.for_partner(partner_id)
        .filter(customer_id=customer_id, status=Subscription.Status.SUSPENDED)
        .exists()
    )
    customers = Customer.objects.for_partner(partner_id).filter(pk=customer_id)
    if suspended:
        customers.filter(status__in=[Customer.Status.ACTIVE, Customer.Status.ON_HOLD]).update(
            status=Customer.Status.SUSPENDED
        )
    else:
        customers.filter(status=Customer.Status.SUSPENDED).update(status=Customer.Status.ACTIVE)


# -- billing inquiries -------------------------------------------------------------------------


@transaction.atomic
def billing_inquiry_create(*, invoice: Invoice, contact, kind: str, message: str):
    """A question about an invoice becomes a billing ticket linked to the invoice; a dispute
    also puts the invoice on hold until billing releases it."""
    from tickets.models import Ticket
    from tickets.services import ticket_create

    from .models import BillingInquiry

    if contact.customer_id != invoice.customer_id:
        raise ValidationError(_("Unknown invoice."))
    kind = BillingInquiry.Kind(kind)
    ticket = ticket_create(
        partner=invoice.partner,
        customer=contact.customer,
        requester=contact.user,
        kind=Ticket.Kind.BILLING,
        product=Ticket.Product.OTHER,
        subject=_("%(kind)s: invoice %(number)s") % {"kind": kind.label, "number": invoice.number},
        body=message,
    )
    BillingInquiry.objects.create(
        partner_id=invoice.partner_id,
        invoice=invoice,
        ticket=ticket,
        kind=kind,
        created_by=contact.user,
    )
    if kind == BillingInquiry.Kind.DISPUTE:
        invoice_hold_place(invoice=invoice, reason=message, acting_user=contact.user, ticket=ticket)
    return ticket
