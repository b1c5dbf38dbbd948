"""Celery work of billing: the daily collections sweep (fanned out per partner at the
partner's local sweep hour), reminder e-mails with their PDF letter, Partner Center
suspensions and reinstatements. Tasks take ids and re-fetch inside `partner_scope`."""

from __future__ import annotations

from datetime import date, timedelta
from email.utils import formataddr

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation

from csp_portal.accounts.models import ContactRole, CustomerContact, Partner
from csp_portal.accounts.tenancy import partner_scope
from csp_portal.webhooks import payloads as webhook_payloads
from csp_portal.webhooks.services import webhook_emit

from . import collections, documents, services
from .models import ReminderSent, Suspension
from .partner_center import PartnerCenterClient, PartnerCenterError


@shared_task
def collections_fan_out() -> list[int]:
    """Hourly: start the sweep of every partner whose local day has reached the sweep hour
    and has not been swept yet (so each partner is swept once a day, in its own time zone).
    A partner with no invoice for the sweep to look at gets its (empty) run recorded here
    instead of a sweep task. Returns the partners whose sweep was started."""
    due = collections.partners_due_for_sweep(hour=settings.COLLECTIONS_SWEEP_HOUR)
    to_sweep, empty = collections.partners_with_candidates(due)
    collections.record_empty_runs(empty)
    for partner_id, run_date in to_sweep:
        collections_sweep.delay(partner_id=partner_id, run_date=run_date.isoformat())
    return [partner_id for partner_id, _day in to_sweep]


@shared_task
def collections_resume() -> list[int]:
    """Every few minutes: hand to the workers again the sweep's e-mails and Partner Center
    calls whose broker message was lost (`collections.resume_lost_work`). Returns the
    numbers of reminders and suspensions resumed."""
    after = timedelta(seconds=settings.COLLECTIONS_RESUME_AFTER_SECONDS)
    return list(collections.resume_lost_work(after=after))


@shared_task(acks_late=True)
def collections_sweep(*, partner_id: int, run_date: str) -> list[int]:
    reminders, suspensions = collections.sweep_partner(
        partner_id=partner_id,
        run_date=date.fromisoformat(run_date),
        batch_size=settings.COLLECTIONS_BATCH_SIZE,
    )
    return [reminders, suspensions]


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, max_retries=8)
def reminder_email(*, partner_id: int, reminder_id: int) -> None:
    """E-mail one reminder with its PDF letter. Sent at most once per row (a row already
    e-mailed is left alone)."""
    with partner_scope(partner_id):
        partner = Partner.objects.get(pk=partner_id)
        reminder = (
            ReminderSent.objects.for_partner(partner)
            .select_for_update()
            .select_related("invoice__customer", "policy")
            .filter(pk=reminder_id)
            .first()
        )
        if reminder is None or reminder.emailed_at is not None:
            return
        customer = reminder.invoice.customer
        recipients = [customer.billing_email] if customer.billing_email else []
        if not recipients:
            recipients = list(
                CustomerContact.objects.for_partner(partner)
                .filter(customer=customer, role=ContactRole.ADMIN, is_active=True)
                .values_list("user__email", flat=True)
            )
        if not recipients:
            return
        with translation.override(customer.language):
            context = documents.reminder_context(reminder)
            subject = render_to_string("billing/email/reminder_subject.txt", context).strip()
            body = render_to_string("billing/email/reminder.txt", context)
            pdf = documents.reminder_pdf(reminder)
        message = EmailMessage(
            subject=" ".join(subject.splitlines()),
            body=body,
            from_email=formataddr((partner.display_name, settings.DEFAULT_FROM_EMAIL)),
            to=recipients,
            reply_to=[partner.support_email] if partner.support_email else None,
        )
        message.attach(documents.reminder_filename(reminder), pdf, "application/pdf")
        message.send()
        reminder.emailed_at = timezone.now()
        reminder.emailed_to = ", ".join(recipients)[:254]
        reminder.save(update_fields=["emailed_at", "emailed_to"])
        webhook_emit(
            partner=partner, event="reminder.sent", payload=webhook_payloads.reminder(reminder)
        )
        if reminder.step == min((s for s in reminder.policy.reminder_steps if s > 0), default=None):
            webhook_emit(
                partner=partner,
                event="invoice.overdue",
                payload=webhook_payloads.invoice(reminder.invoice),
            )


TARGET_STATUS = {
    Suspension.State.REQUESTED: "suspended",
    Suspension.State.REINSTATING: "active",
}


@shared_task(bind=True, acks_late=True, max_retries=6)
def suspension_sync(self, *, partner_id: int, suspension_id: int) -> str:
    """Bring Partner Center to the suspension's state: `suspended` for a requested one,
    `active` for one being reinstated. The row stays locked during the call, so a payment
    that reinstates waits for the call in flight instead of racing it."""
    retry_with = None
    with partner_scope(partner_id):
        suspension = (
            Suspension.objects.for_partner(partner_id)
            .select_for_update()
            .select_related("subscription", "customer")
            .filter(pk=suspension_id)
            .first()
        )
        if suspension is None or suspension.state not in TARGET_STATUS:
            return "nothing to do"
        target = TARGET_STATUS[suspension.state]
        tenant_id = suspension.customer.microsoft_tenant_id
        if tenant_id is None:
            services.suspension_record_result(
                suspension=suspension,
                target=target,
                error="The customer has no Microsoft tenant ID.",
                final=True,
            )
            return "failed"
        try:
            PartnerCenterClient().subscription_set_status(
                customer_tenant_id=str(tenant_id),
                subscription_id=suspension.subscription.partner_center_id,
                status=target,
                request_id=suspension.request_id,
            )
        except PartnerCenterError as error:
            final = not error.is_transient or self.request.retries >= self.max_retries
            services.suspension_record_result(
                suspension=suspension, target=target, error=str(error), final=final
            )
            if not final:
                retry_with = error
        else:
            services.suspension_record_result(suspension=suspension, target=target)
            return target
    if retry_with is not None:
        raise self.retry(exc=retry_with, countdown=min(60 * 2**self.request.retries, 3600))
    return "failed"


@shared_task(acks_late=True)
def collections_reinstate_if_settled(*, partner_id: int, customer_id: int) -> int:
    with partner_scope(partner_id):
        partner = Partner.objects.get(pk=partner_id)
        return len(services.reinstate_if_settled(partner=partner, customer_id=customer_id))
