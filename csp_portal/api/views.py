"""The one base class of every API view: partner resolution, access, scopes, the error
format, pagination, rate limits and idempotent creates."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _
from rest_framework import status, viewsets
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from csp_portal.accounts.tenancy import get_for_partner_or_404

from .exceptions import problem_response
from .models import IdempotencyRecord
from .pagination import NewestFirstCursorPagination
from .permissions import PartnerAccess

MAX_IDEMPOTENCY_KEY = 255


class PartnerViewSet(viewsets.GenericViewSet):
    """Subclasses say what they serve and who may use it:

    - `read_scope` / `write_scope`: the token scopes for safe / unsafe methods;
    - `staff_read` / `staff_write`: the capability a staff member needs (None: never);
    - `contact_read` / `contact_write`: whether customers' users may (their own data only);
    - `scoped_queryset()`: the rows the caller may see, always starting `.for_partner()`.

    `get_queryset` is final: a subclass cannot return an unscoped queryset by accident.
    """

    permission_classes = [PartnerAccess]
    pagination_class = NewestFirstCursorPagination
    read_scope: str = ""
    write_scope: str = ""
    staff_read = None
    staff_write = None
    contact_read = False
    contact_write = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(f"{cls.__name__}: override scoped_queryset(), not get_queryset()")

    def scoped_queryset(self):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none() if self.queryset is not None else None
        return self.scoped_queryset()

    def get_object(self):
        queryset = self.filter_queryset(self.get_queryset())
        lookup = {self.lookup_field: self.kwargs[self.lookup_url_kwarg or self.lookup_field]}
        obj = get_for_partner_or_404(queryset, self.partner, **lookup)
        self.check_object_permissions(self.request, obj)
        return obj

    @property
    def is_staff(self) -> bool:
        return getattr(self, "membership", None) is not None

    def initial(self, request, *args, **kwargs):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > settings.API_MAX_BODY_BYTES:
            raise PayloadTooLarge
        super().initial(request, *args, **kwargs)

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        reject_unknown_fields(serializer)
        return serializer


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def reject_unknown_fields(serializer) -> None:
    """Make a bound serializer refuse fields it does not know, instead of ignoring them."""
    initial = getattr(serializer, "initial_data", None)
    if not hasattr(initial, "keys"):
        return
    original = serializer.validate

    def validate(attrs):
        unknown = sorted(set(initial.keys()) - set(serializer.fields) - {"csrfmiddlewaretoken"})
        if unknown:
            raise ValidationError({name: ["Unknown field."] for name in unknown})
        return original(attrs)

    serializer.validate = validate


class IdempotentCreateMixin:
    """`Idempotency-Key` on a creating POST: the first response is stored with the key, and
    a retry (even a concurrent one) gets that response back instead of a second object."""

    def create(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return super().create(request, *args, **kwargs)
        if not key or len(key) > MAX_IDEMPOTENCY_KEY:
            raise ValidationError({"Idempotency-Key": [_("Use 1 to 255 characters.")]})
        fingerprint = hashlib.sha256(request.body).hexdigest()
        with transaction.atomic():
            # The unique key serialises concurrent retries: the second insert waits for the
            # first transaction, then finds its row.
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO api_idempotencyrecord "
                    "(partner_id, user_id, key, method, path, request_hash, created_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s, now()) "
                    "ON CONFLICT (partner_id, user_id, key) DO NOTHING RETURNING id",
                    [
                        self.partner.pk,
                        request.user.pk,
                        key,
                        request.method,
                        request.path,
                        fingerprint,
                    ],
                )
                inserted = cursor.fetchone() is not None
            record = (
                IdempotencyRecord.objects.for_partner(self.partner)
                .select_for_update()
                .get(user=request.user, key=key)
            )
            if not inserted:
                if (record.request_hash, record.path, record.method) != (
                    fingerprint,
                    request.path,
                    request.method,
                ):
                    return problem_response(
                        status.HTTP_422_UNPROCESSABLE_ENTITY,
                        "Idempotency-Key reused",
                        _("This Idempotency-Key was used with a different request."),
                    )
                return Response(
                    record.response_body,
                    status=record.status_code,
                    headers={"Idempotent-Replayed": "true"},
                )
            response = super().create(request, *args, **kwargs)
            record.status_code = response.status_code
            record.response_body = response.data
            record.save(update_fields=["status_code", "response_body"])
            return response
