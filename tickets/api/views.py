"""Tickets, their messages and attachments, for staff (by role) and customers' users (their
own, or their company's for customer admins)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from csp_portal.accounts.models import Customer, Membership
from csp_portal.accounts.roles import Capability
from csp_portal.api.models import Scope
from csp_portal.api.views import IdempotentCreateMixin, PartnerViewSet, reject_unknown_fields

from .. import selectors, services
from ..models import Ticket, TicketAttachment, TicketMessage


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = TicketAttachment
        fields = ["id", "original_name", "content_type", "size", "created_at"]
        read_only_fields = fields


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.email", read_only=True, default=None)
    attachments = AttachmentSerializer(many=True, read_only=True)
    files = serializers.ListField(
        child=serializers.FileField(), write_only=True, required=False, max_length=10
    )
    public = serializers.BooleanField(source="is_public", default=True)

    class Meta:
        model = TicketMessage
        fields = [
            "id",
            "author",
            "body",
            "public",
            "is_from_customer",
            "created_at",
            "attachments",
            "files",
        ]
        read_only_fields = ["id", "author", "is_from_customer", "created_at", "attachments"]
        extra_kwargs = {"body": {"allow_blank": True, "max_length": 100_000}}


class TicketSerializer(serializers.ModelSerializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.none(), required=False)
    requester = serializers.CharField(source="requester.email", read_only=True, default=None)
    assignee = serializers.IntegerField(source="assignee_id", required=False, allow_null=True)
    body = serializers.CharField(write_only=True, max_length=100_000)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "reference",
            "number",
            "customer",
            "requester",
            "subject",
            "body",
            "kind",
            "product",
            "impact",
            "urgency",
            "status",
            "priority",
            "assignee",
            "tags",
            "channel",
            "created_at",
            "updated_at",
            "first_response_at",
            "resolved_at",
            "csat_score",
        ]
        read_only_fields = [
            "id",
            "reference",
            "number",
            "requester",
            "channel",
            "created_at",
            "updated_at",
            "first_response_at",
            "resolved_at",
            "csat_score",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        view = self.context.get("view")
        if view is not None and getattr(view, "partner", None) is not None:
            self.fields["customer"].queryset = Customer.objects.for_partner(view.partner)


class TicketUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Ticket.Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices, required=False)
    assignee = serializers.IntegerField(required=False, allow_null=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=20
    )


class TicketViewSet(
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    PartnerViewSet,
):
    """Staff see the partner's tickets by role; customers' users their own (customer admins:
    the company's). Creating as a customer opens a request for the caller's company."""

    serializer_class = TicketSerializer
    queryset = Ticket.objects.none()
    read_scope, write_scope = Scope.TICKETS_READ, Scope.TICKETS_WRITE
    staff_read, staff_write = Capability.TICKETS_READ, Capability.TICKETS_WORK
    contact_read = contact_write = True
    filterset_fields = ["status", "priority", "kind", "product", "customer", "assignee"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def scoped_queryset(self):
        if self.is_staff:
            # The customer is shown by id alone: no join to customers, which would lead the
            # planner to walk every customer of the partner before the newest tickets.
            tickets = Ticket.objects.for_partner(self.partner).select_related("requester")
            search = self.request.query_params.get("q", "").strip()[:200]
            if search:
                tickets = selectors.ticket_list(
                    partner=self.partner, user=self.request.user, view="all", search=search
                )
            return tickets
        return selectors.tickets_for_contact(partner=self.partner, contact=self.contact)

    def perform_create(self, serializer):
        data = serializer.validated_data
        if self.is_staff:
            customer = data.get("customer")
            if customer is None:
                raise serializers.ValidationError(
                    {"customer": ["Name the customer the ticket is for."]}
                )
            requester, channel = None, Ticket.Channel.AGENT
        else:
            if data.get("customer") not in (None, self.contact.customer):
                raise serializers.ValidationError(
                    {"customer": ["You can open requests for your own company only."]}
                )
            customer, requester, channel = (
                self.contact.customer,
                self.request.user,
                Ticket.Channel.PORTAL,
            )
        serializer.instance = services.ticket_create(
            partner=self.partner,
            customer=customer,
            requester=requester,
            kind=data["kind"],
            product=data["product"],
            subject=data["subject"],
            body=data["body"],
            impact=data.get("impact", "medium"),
            urgency=data.get("urgency", "medium"),
            channel=channel,
            acting_user=self.request.user,
        )

    @extend_schema(request=TicketUpdateSerializer, responses=TicketSerializer)
    def partial_update(self, request, *args, **kwargs):
        if not self.is_staff:
            raise PermissionDenied
        ticket = self.get_object()
        update = TicketUpdateSerializer(data=request.data)
        reject_unknown_fields(update)
        update.is_valid(raise_exception=True)
        changes = dict(update.validated_data)
        if "assignee" in changes:
            changes["assignee"] = self._assignee(changes["assignee"])
        ticket = services.ticket_change(ticket=ticket, acting_user=request.user, **changes)
        return Response(TicketSerializer(ticket, context=self.get_serializer_context()).data)

    def _assignee(self, user_id):
        if user_id is None:
            return False
        member = (
            Membership.objects.for_partner(self.partner)
            .filter(user_id=user_id, is_active=True)
            .select_related("user")
            .first()
        )
        if member is None:
            raise serializers.ValidationError(
                {"assignee": ["Not an active member of this partner's staff."]}
            )
        return member.user

    @extend_schema(request=MessageSerializer, responses=MessageSerializer(many=True))
    @action(detail=True, methods=["get", "post"], serializer_class=MessageSerializer)
    def messages(self, request, pk=None):
        ticket = self.get_object()
        include_internal = self.is_staff and self.membership.allows(Capability.TICKETS_WORK)
        if request.method == "GET":
            messages = (
                TicketMessage.objects.for_partner(self.partner)
                .filter(ticket=ticket)
                .select_related("author")
                .prefetch_related("attachments")
                .order_by("created_at", "pk")
            )
            if not include_internal:
                messages = messages.filter(is_public=True)
            return Response(MessageSerializer(messages, many=True).data)
        serializer = MessageSerializer(data=request.data)
        reject_unknown_fields(serializer)
        serializer.is_valid(raise_exception=True)
        public = serializer.validated_data.get("is_public", True)
        if not public and not include_internal:
            raise PermissionDenied("Only the partner's agents add internal notes.")
        message = services.ticket_reply(
            ticket=ticket,
            author=request.user,
            body=serializer.validated_data.get("body", ""),
            public=public,
            attachments=serializer.validated_data.get("files", []),
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class AttachmentViewSet(mixins.RetrieveModelMixin, PartnerViewSet):
    """Attachment metadata; `download` streams the file as an attachment, never inline."""

    serializer_class = AttachmentSerializer
    queryset = TicketAttachment.objects.none()
    read_scope, write_scope = Scope.TICKETS_READ, Scope.TICKETS_WRITE
    staff_read = Capability.TICKETS_READ
    contact_read = True

    def scoped_queryset(self):
        attachments = TicketAttachment.objects.for_partner(self.partner)
        if self.is_staff:
            if not self.membership.allows(Capability.TICKETS_WORK):
                attachments = attachments.filter(message__is_public=True)
            return attachments
        visible = selectors.tickets_for_contact(partner=self.partner, contact=self.contact)
        return attachments.filter(message__is_public=True, ticket__in=visible.values("pk"))

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        from ..views import _download

        return _download(self.get_object())
