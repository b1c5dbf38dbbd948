"""Billing in the API: invoices (with lines and their PDF), payments, subscriptions (suspend
and reinstate), the collection policy, billing inquiries and suspensions.

Staff read with `billing.read` and record payments with `billing.manage`; suspending and
reinstating needs `subscriptions.suspend`. A customer admin reads its own company's invoices,
payments, subscriptions, suspensions and inquiries and asks questions; every customer user may read the
collection policy, and nothing else of billing. Changes go through `billing.services`."""

from __future__ import annotations

import django_filters
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from csp_portal.accounts.roles import Capability
from csp_portal.api.models import Scope
from csp_portal.api.views import IdempotentCreateMixin, PartnerViewSet, reject_unknown_fields

from .. import documents, selectors, services
from ..models import (
    BillingInquiry,
    CollectionPolicy,
    Invoice,
    Payment,
    Subscription,
    Suspension,
)
from .serializers import (
    BillingInquirySerializer,
    CollectionPolicySerializer,
    InvoiceSerializer,
    PaymentCreateSerializer,
    PaymentSerializer,
    ReasonSerializer,
    SubscriptionSerializer,
    SuspensionSerializer,
)


class BillingViewSet(PartnerViewSet):
    """Billing scopes and roles; customers' users only as customer admins, and only their own
    company's rows (`own_company`)."""

    read_scope, write_scope = Scope.BILLING_READ, Scope.BILLING_WRITE
    staff_read = Capability.BILLING_READ
    customer_admins_read = False

    @property
    def contact_read(self) -> bool:  # type: ignore[override]
        contact = getattr(self, "contact", None)
        return bool(self.customer_admins_read and contact is not None and contact.is_admin)

    def own_company(self, queryset, field: str = "customer_id"):
        if self.is_staff:
            return queryset
        return queryset.filter(**{field: self.contact.customer_id})


class InvoiceFilter(django_filters.FilterSet):
    due_after = django_filters.DateFilter(
        field_name="due_date", lookup_expr="gte", label="Due on or after (YYYY-MM-DD)"
    )
    due_before = django_filters.DateFilter(
        field_name="due_date", lookup_expr="lte", label="Due on or before (YYYY-MM-DD)"
    )

    class Meta:
        model = Invoice
        fields = ["status", "customer", "currency", "due_after", "due_before"]


class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BillingViewSet):
    """Invoices with their lines; `pdf` downloads the partner-branded document."""

    serializer_class = InvoiceSerializer
    queryset = Invoice.objects.none()
    customer_admins_read = True
    filterset_class = InvoiceFilter
    ordering_fields = ["due_date", "issue_date", "total", "number"]

    def scoped_queryset(self):
        invoices = Invoice.objects.for_partner(self.partner).prefetch_related("lines")
        if not self.is_staff:
            invoices = invoices.exclude(status=Invoice.Status.VOID)
        return self.own_company(invoices)

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(
                response=bytes, description="The invoice as a PDF document."
            )
        }
    )
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        from ..views import _pdf

        invoice = self.get_object()
        return _pdf(documents.invoice_pdf(invoice), f"{invoice.number}.pdf")


class PaymentFilter(django_filters.FilterSet):
    received_after = django_filters.DateFilter(field_name="received_on", lookup_expr="gte")
    received_before = django_filters.DateFilter(field_name="received_on", lookup_expr="lte")

    class Meta:
        model = Payment
        fields = ["customer", "currency", "method", "received_after", "received_before"]


class RecordPaymentMixin:
    """The create of `PaymentViewSet`: validated by `PaymentCreateSerializer`, recorded by
    `billing.services.payment_record`, answered with the payment as stored."""

    @extend_schema(request=PaymentCreateSerializer, responses={201: PaymentSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        payment = services.payment_record(
            partner=self.partner,
            customer=data["customer"],
            amount=data["amount"],
            currency=data["currency"],
            received_on=data.get("received_on") or timezone.localdate(timezone=self.partner.tz),
            method=data["method"],
            reference=data.get("reference", ""),
            acting_user=request.user,
        )
        payment = self.get_queryset().get(pk=payment.pk)
        return Response(
            PaymentSerializer(payment, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


class PaymentViewSet(
    IdempotentCreateMixin,
    RecordPaymentMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    BillingViewSet,
):
    """Payments and how they were allocated. Creating records a payment through billing's
    service (send `Idempotency-Key` so a retry records it once)."""

    serializer_class = PaymentSerializer
    queryset = Payment.objects.none()
    staff_write = Capability.BILLING_MANAGE
    customer_admins_read = True
    filterset_class = PaymentFilter
    ordering_fields = ["received_on", "amount"]

    def scoped_queryset(self):
        payments = Payment.objects.for_partner(self.partner).prefetch_related("allocations")
        return self.own_company(payments)

    def get_serializer_class(self):
        return PaymentCreateSerializer if self.action == "create" else PaymentSerializer


class SubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BillingViewSet):
    """Subscriptions per customer; staff with `subscriptions.suspend` suspend and reinstate
    them (carried out against Partner Center by billing's Celery work)."""

    serializer_class = SubscriptionSerializer
    queryset = Subscription.objects.none()
    staff_write = Capability.SUBSCRIPTIONS_SUSPEND
    customer_admins_read = True
    filterset_fields = ["status", "customer", "product_family"]
    ordering_fields = ["offer_name", "term_end_date", "created_at"]

    def scoped_queryset(self):
        return self.own_company(Subscription.objects.for_partner(self.partner))

    def _reason(self, request) -> str:
        reason = ReasonSerializer(data=request.data)
        reject_unknown_fields(reason)
        reason.is_valid(raise_exception=True)
        return reason.validated_data["reason"]

    @extend_schema(request=ReasonSerializer, responses={201: SuspensionSerializer})
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        subscription = self.get_object()
        reason = self._reason(request)
        suspension = services.subscription_suspend(
            subscription=subscription, note=reason, acting_user=request.user
        )
        return Response(SuspensionSerializer(suspension).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonSerializer, responses={200: SuspensionSerializer})
    @action(detail=True, methods=["post"])
    def reinstate(self, request, pk=None):
        subscription = self.get_object()
        reason = self._reason(request)
        suspension = (
            Suspension.objects.for_partner(self.partner)
            .filter(subscription=subscription, state__in=Suspension.OPEN_STATES)
            .first()
        )
        if suspension is None:
            raise serializers.ValidationError(
                {"subscription": [_("This subscription has no suspension in force.")]}
            )
        suspension = services.suspension_reinstate(
            suspension=suspension, reason=reason, acting_user=request.user
        )
        return Response(SuspensionSerializer(suspension).data)


class CollectionPolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BillingViewSet):
    """Published versions of the partner's collection policy (newest first); `current` is the
    one the collections sweep follows. Every customer user may read it."""

    serializer_class = CollectionPolicySerializer
    queryset = CollectionPolicy.objects.none()
    contact_read = True  # type: ignore[assignment]
    filterset_fields: list[str] = []
    ordering_fields = ["version"]

    def scoped_queryset(self):
        return CollectionPolicy.objects.for_partner(self.partner)

    @extend_schema(responses={200: CollectionPolicySerializer})
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def current(self, request):
        policy = selectors.policy_current(partner=self.partner)
        if policy is None:
            raise NotFound(_("No collection policy has been published yet."))
        return Response(CollectionPolicySerializer(policy).data)


class BillingInquiryViewSet(
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    BillingViewSet,
):
    """Questions about invoices. A customer admin asks one (it becomes a billing ticket; a
    dispute also holds the invoice); billing staff list them."""

    serializer_class = BillingInquirySerializer
    queryset = BillingInquiry.objects.none()
    customer_admins_read = True
    filterset_fields = ["kind", "invoice"]
    ordering_fields = ["created_at"]

    @property
    def contact_write(self) -> bool:  # type: ignore[override]
        return self.contact_read

    def scoped_queryset(self):
        inquiries = BillingInquiry.objects.for_partner(self.partner).select_related("ticket")
        return self.own_company(inquiries, field="invoice__customer_id")

    def perform_create(self, serializer):
        data = serializer.validated_data
        ticket = services.billing_inquiry_create(
            invoice=data["invoice"],
            contact=self.contact,
            kind=data["kind"],
            message=data["message"],
        )
        serializer.instance = (
            BillingInquiry.objects.for_partner(self.partner)
            .select_related("ticket")
            .get(ticket=ticket)
        )


class SuspensionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BillingViewSet):
    """Suspensions for non-payment and by hand, with how Partner Center answered; customer
    admins see their own company's (the partner must tell them when access is affected)."""

    serializer_class = SuspensionSerializer
    queryset = Suspension.objects.none()
    customer_admins_read = True
    filterset_fields = ["state", "reason", "customer", "subscription"]
    ordering_fields = ["requested_at"]

    def scoped_queryset(self):
        return self.own_company(Suspension.objects.for_partner(self.partner))
