"""Customers and their contacts, for the partner's other systems."""

from __future__ import annotations

from django.db.models import Q
from rest_framework import mixins, serializers

from csp_portal.accounts.models import Customer, CustomerContact
from csp_portal.accounts.roles import Capability
from csp_portal.api.models import Scope
from csp_portal.api.views import IdempotentCreateMixin, PartnerViewSet


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = [
            "id",
            "company_name",
            "primary_domain",
            "microsoft_tenant_id",
            "billing_email",
            "country",
            "language",
            "status",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]

    def validate_country(self, value):
        if len(value) != 2 or not value.isalpha():
            raise serializers.ValidationError("Use the two-letter country code, e.g. NL.")
        return value.upper()

    def validate_microsoft_tenant_id(self, value):
        partner = self.context["view"].partner
        clash = Customer.objects.for_partner(partner).filter(microsoft_tenant_id=value)
        if value and self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if value and clash.exists():
            raise serializers.ValidationError("Another customer has this Microsoft tenant ID.")
        return value


class ContactSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)

    class Meta:
        model = CustomerContact
        fields = ["id", "customer", "email", "full_name", "role", "phone", "is_active"]
        read_only_fields = fields


class CustomerViewSet(
    IdempotentCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    PartnerViewSet,
):
    """Customers of the partner. Customers' users see only their own company."""

    serializer_class = CustomerSerializer
    queryset = Customer.objects.none()
    read_scope, write_scope = Scope.CUSTOMERS_READ, Scope.CUSTOMERS_WRITE
    staff_read, staff_write = Capability.CUSTOMERS_VIEW, Capability.CUSTOMERS_EDIT
    contact_read = True
    filterset_fields = ["status", "country"]

    def scoped_queryset(self):
        customers = Customer.objects.for_partner(self.partner)
        if not self.is_staff:
            return customers.filter(pk=self.contact.customer_id)
        search = self.request.query_params.get("q", "").strip()
        if search:
            customers = customers.filter(
                Q(company_name__icontains=search) | Q(primary_domain__icontains=search)
            )
        return customers

    def perform_create(self, serializer):
        serializer.save(partner=self.partner)


class ContactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartnerViewSet):
    """Customers' users; a customer admin sees the company's, a customer user only itself."""

    serializer_class = ContactSerializer
    queryset = CustomerContact.objects.none()
    read_scope, write_scope = Scope.CUSTOMERS_READ, Scope.CUSTOMERS_WRITE
    staff_read = Capability.CUSTOMERS_VIEW
    contact_read = True
    filterset_fields = ["customer", "role", "is_active"]

    def scoped_queryset(self):
        contacts = CustomerContact.objects.for_partner(self.partner).select_related("user")
        if self.is_staff:
            return contacts
        if self.contact.is_admin:
            return contacts.filter(customer_id=self.contact.customer_id)
        return contacts.filter(pk=self.contact.pk)
