"""factory-boy factories for billing: subscriptions, invoices with lines, payments, policies."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from billing.models import (
    CollectionPolicy,
    Invoice,
    InvoiceLine,
    ReminderSent,
    Subscription,
    Suspension,
)
from tests.factories import CustomerFactory


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    customer = factory.SubFactory(CustomerFactory)
    partner = factory.SelfAttribute("customer.partner")
    partner_center_id = factory.Faker("uuid4")
    offer_name = factory.Sequence(lambda n: f"Microsoft 365 Business Premium {n}")
    product_family = Subscription.ProductFamily.MICROSOFT_365
    quantity = 10
    billing_cycle = "Monthly"


class InvoiceFactory(factory.django.DjangoModelFactory):
    """An open invoice of 121.00 (100 + 21 tax) with one line."""

    class Meta:
        model = Invoice
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    partner = factory.SelfAttribute("customer.partner")
    number = factory.Sequence(lambda n: f"INV-{n:05d}")
    currency = "EUR"
    issue_date = factory.LazyFunction(lambda: datetime.date(2026, 1, 1))
    due_date = factory.LazyAttribute(lambda o: o.issue_date + datetime.timedelta(days=30))
    subtotal = Decimal("100.00")
    tax_total = Decimal("21.00")
    total = Decimal("121.00")

    @factory.post_generation
    def lines(invoice, create, extracted, **kwargs):
        if not create:
            return
        subscription = extracted
        InvoiceLine.objects.create(
            partner=invoice.partner,
            invoice=invoice,
            subscription=subscription,
            description="Microsoft 365 Business Premium",
            quantity=Decimal("1"),
            unit_price=invoice.subtotal,
            amount=invoice.subtotal,
            currency=invoice.currency,
        )


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CollectionPolicy

    partner = factory.SubFactory("tests.factories.PartnerFactory")
    version = factory.Sequence(lambda n: n + 1)
    reminder_steps = factory.LazyFunction(lambda: [-3, 1, 7, 14])
    final_notice_day = 14
    grace_days = 7
    suspend_scope = CollectionPolicy.SuspendScope.ALL
    minimum_overdue_amount = Decimal("50.00")
    currency = "EUR"
    reinstate_on_payment = True
    published_at = factory.LazyFunction(timezone.now)


class ReminderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReminderSent

    invoice = factory.SubFactory(InvoiceFactory)
    partner = factory.SelfAttribute("invoice.partner")
    policy = factory.SubFactory(PolicyFactory, partner=factory.SelfAttribute("..partner"))
    step = 14
    is_final_notice = True
    sent_on = factory.LazyAttribute(lambda o: o.invoice.due_date + datetime.timedelta(days=o.step))


class SuspensionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Suspension

    subscription = factory.SubFactory(SubscriptionFactory)
    partner = factory.SelfAttribute("subscription.partner")
    customer = factory.SelfAttribute("subscription.customer")
    reason = Suspension.Reason.MANUAL
    note = "Requested by the customer's finance team"
    state = Suspension.State.APPLIED
