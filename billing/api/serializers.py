"""Billing's API shapes. Money is a decimal string beside its currency code, never a float."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from csp_portal.accounts.models import Customer

from ..currency import validate_currency
from ..models import (
    BillingInquiry,
    CollectionPolicy,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAllocation,
    Subscription,
    Suspension,
)


def money(**kwargs) -> serializers.DecimalField:
    """An amount as a string with two decimals, e.g. "121.00"."""
    return serializers.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=True, **kwargs
    )


class InvoiceLineSerializer(serializers.ModelSerializer):
    quantity = serializers.DecimalField(max_digits=16, decimal_places=4, coerce_to_string=True)
    unit_price = serializers.DecimalField(max_digits=16, decimal_places=4, coerce_to_string=True)
    amount = money()

    class Meta:
        model = InvoiceLine
        fields = [
            "id",
            "subscription",
            "description",
            "quantity",
            "unit_price",
            "amount",
            "currency",
            "charge_type",
            "period_start",
            "period_end",
        ]
        read_only_fields = fields


class InvoiceSerializer(serializers.ModelSerializer):
    subtotal = money()
    tax_total = money()
    total = money()
    amount_paid = money()
    balance = money(read_only=True)
    lines = InvoiceLineSerializer(many=True, read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "customer",
            "currency",
            "issue_date",
            "due_date",
            "status",
            "subtotal",
            "tax_total",
            "total",
            "amount_paid",
            "balance",
            "lines",
            "created_at",
        ]
        read_only_fields = fields


class AllocationSerializer(serializers.ModelSerializer):
    amount = money()

    class Meta:
        model = PaymentAllocation
        fields = ["invoice", "amount", "currency"]
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    amount = money()
    credit = money(source="unallocated", help_text=_("What is not allocated to an invoice yet."))
    allocations = AllocationSerializer(many=True, read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "customer",
            "amount",
            "currency",
            "received_on",
            "method",
            "reference",
            "credit",
            "allocations",
            "created_at",
        ]
        read_only_fields = fields


class PaymentCreateSerializer(serializers.Serializer):
    """Record a payment; it is allocated to the customer's open invoices, oldest first, and
    what is left stays as credit."""

    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.none())
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        coerce_to_string=True,
        help_text=_('A positive amount with at most two decimals, as a string: "121.00".'),
    )
    currency = serializers.CharField(max_length=3, help_text=_("ISO 4217 currency code, e.g. EUR."))
    received_on = serializers.DateField(
        required=False, help_text=_("Defaults to today in the partner's time zone.")
    )
    method = serializers.ChoiceField(choices=Payment.Method.choices)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        view = self.context.get("view")
        if view is not None and getattr(view, "partner", None) is not None:
            self.fields["customer"].queryset = Customer.objects.for_partner(view.partner)

    def validate_currency(self, value):
        try:
            return validate_currency(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


class SubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Subscription
        fields = [
            "id",
            "customer",
            "partner_center_id",
            "offer_name",
            "sku_name",
            "product_family",
            "quantity",
            "billing_cycle",
            "term_end_date",
            "status",
            "suspension_reason",
            "created_at",
        ]
        read_only_fields = fields


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000, help_text=_("Why; recorded with the suspension or reinstatement.")
    )


class SuspensionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Suspension
        fields = [
            "id",
            "customer",
            "subscription",
            "invoice",
            "policy",
            "reason",
            "note",
            "state",
            "requested_at",
            "applied_at",
            "reversed_at",
            "reversal_reason",
            "attempts",
            "last_error",
        ]
        read_only_fields = fields


class CollectionPolicySerializer(serializers.ModelSerializer):
    minimum_overdue_amount = money()

    class Meta:
        model = CollectionPolicy
        fields = [
            "id",
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
        ]
        read_only_fields = fields


class BillingInquirySerializer(serializers.ModelSerializer):
    invoice = serializers.PrimaryKeyRelatedField(queryset=Invoice.objects.none())
    message = serializers.CharField(write_only=True, max_length=20_000)
    ticket = serializers.IntegerField(source="ticket_id", read_only=True)
    ticket_reference = serializers.CharField(source="ticket.reference", read_only=True)

    class Meta:
        model = BillingInquiry
        fields = [
            "id",
            "invoice",
            "kind",
            "message",
            "ticket",
            "ticket_reference",
            "created_at",
        ]
        read_only_fields = ["id", "ticket", "ticket_reference", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        view = self.context.get("view")
        contact = getattr(view, "contact", None)
        if contact is not None:
            self.fields["invoice"].queryset = Invoice.objects.for_partner(view.partner).filter(
                customer_id=contact.customer_id
            )
