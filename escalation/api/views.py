"""Escalations to Microsoft and to the indirect provider, for the partner's other systems
(read-only: escalating is an agent's decision, taken on the ticket page with the router's
reasons in view)."""

from __future__ import annotations

from rest_framework import mixins, serializers

from csp_portal.accounts.roles import Capability
from csp_portal.api.models import Scope
from csp_portal.api.views import PartnerViewSet

from ..models import Escalation, EscalationEvent


class EscalationEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = EscalationEvent
        fields = ["kind", "detail", "created_at"]
        read_only_fields = fields


class EscalationSerializer(serializers.ModelSerializer):
    events = EscalationEventSerializer(many=True, read_only=True)
    reference = serializers.CharField(source="external_reference", read_only=True)

    class Meta:
        model = Escalation
        fields = [
            "id",
            "ticket",
            "customer",
            "channel",
            "delivery",
            "status",
            "severity",
            "title",
            "product",
            "reference",
            "case_number",
            "support_ticket_id",
            "microsoft_status",
            "provider_ticket_reference",
            "last_error",
            "created_at",
            "submitted_at",
            "closed_at",
            "events",
        ]
        read_only_fields = fields


class EscalationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartnerViewSet):
    serializer_class = EscalationSerializer
    queryset = Escalation.objects.none()
    read_scope, write_scope = Scope.ESCALATIONS_READ, Scope.ESCALATIONS_WRITE
    staff_read = Capability.TICKETS_READ
    filterset_fields = ["status", "channel", "delivery", "customer", "ticket"]
    ordering_fields = ["created_at", "submitted_at", "closed_at"]

    def scoped_queryset(self):
        return Escalation.objects.for_partner(self.partner).prefetch_related("events")
