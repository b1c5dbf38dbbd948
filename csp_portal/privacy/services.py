"""GDPR requests about one customer.

Export: `customer_export_request` records the request and, after commit, a Celery task
(`build_customer_export`) writes a ZIP of `export.json` — the customer, its contacts, its
tickets with their messages, events and attachment records, and its billing records when the
billing app is installed — plus the attachments' files. Only the customer's own rows are read,
always scoped to the partner (and row-level security admits no other partner's rows).

Erasure: `customer_erase_personal_data` pseudonymises the customer's people: each contact's
phone is removed and the contact deactivated; a person with no other role anywhere (no staff
membership, no contact of another partner's customer) gets a pseudonymous name and e-mail
address, an unusable password, no verified addresses, social logins or two-factor methods,
and is deactivated, and that person's API tokens here are revoked. The customer's billing
e-mail and its invitations' addresses are removed. What is kept: the customer (a company,
not a person) and its invoices, which the law requires to keep; ticket subjects, message
bodies and attachments, whose free text is not parsed for names or addresses; and the audit
log, which is append-only. Other apps add what they hold with `register_exporter` /
`register_eraser`.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import tempfile
import zipfile
from collections.abc import Callable

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from csp_portal import outbox
from csp_portal.accounts.models import Customer, CustomerContact, Invitation, Membership, User
from csp_portal.accounts.tenancy import partner_scope
from csp_portal.audit.models import Action
from csp_portal.audit.services import audit_record

from .models import DataExport

logger = logging.getLogger(__name__)

EXPORT_FORMAT_VERSION = 1
USER_FIELDS = ("id", "email", "full_name", "language", "time_zone", "is_active", "date_joined")

# name -> function(*, partner, customer) returning JSON-able data for export.json
_exporters: dict[str, Callable] = {}
# functions(*, partner, customer, users) called inside the erasure's transaction
_erasers: list[Callable] = []


def register_exporter(name: str, exporter: Callable) -> None:
    """Another app's rows for a customer export: `exporter(*, partner, customer)` returns
    JSON-able data, written under `name` in export.json."""
    _exporters[name] = exporter


def register_eraser(eraser: Callable) -> None:
    """Another app's part of an erasure: `eraser(*, partner, customer, users)`, called inside
    the erasure's transaction (`users`: the customer's people who were pseudonymised)."""
    if eraser not in _erasers:
        _erasers.append(eraser)


# -- export -----------------------------------------------------------------------------------


@transaction.atomic
def customer_export_request(*, partner, customer: Customer, requested_by) -> DataExport:
    if customer.partner_id != partner.pk:
        raise ValidationError(_("Unknown customer."))
    export = DataExport.objects.create(
        partner=partner, customer=customer, requested_by=requested_by
    )
    audit_record(
        partner=partner,
        actor=requested_by,
        action=Action.DATA_EXPORT_REQUESTED,
        target=customer,
        data={"export_id": export.pk},
    )
    from .tasks import build_customer_export

    outbox.enqueue(build_customer_export, partner_id=partner.pk, export_id=export.pk)
    return export


def customer_export_downloaded(*, export: DataExport, user) -> None:
    audit_record(
        partner=export.partner_id,
        actor=user,
        action=Action.DATA_EXPORT_DOWNLOADED,
        target=("accounts.customer", export.customer_id),
        data={"export_id": export.pk},
    )


def _row(obj: models.Model, *, exclude=("partner",)) -> dict:
    row = {}
    for field in obj._meta.concrete_fields:
        if field.name in exclude:
            continue
        value = field.value_from_object(obj)
        if isinstance(field, models.FileField):
            value = value.name if value else ""
        row[field.attname] = value
    return row


def _user(user: User | None) -> dict | None:
    if user is None:
        return None
    return {name: getattr(user, name) for name in USER_FIELDS}


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:100] or "file"


def _billing_rows(*, partner, customer) -> dict[str, list[dict]] | None:
    """Every billing model with a customer key, and the models that hang from those
    (invoice lines, allocations) — read defensively, so the export works without billing."""
    if not apps.is_installed("billing"):
        return None
    billing_models = list(apps.get_app_config("billing").get_models())
    rows: dict[str, list[dict]] = {}
    ids_by_model: dict[type, list] = {}
    for model in billing_models:
        fields = [
            f
            for f in model._meta.concrete_fields
            if f.is_relation and f.related_model is Customer and f.name != "partner"
        ]
        if not fields:
            continue
        queryset = model.objects.for_partner(partner).filter(**{fields[0].name: customer})
        objects = list(queryset.order_by("pk"))
        rows[model._meta.label_lower] = [_row(obj) for obj in objects]
        ids_by_model[model] = [obj.pk for obj in objects]
    for model in billing_models:
        if model._meta.label_lower in rows:
            continue
        for field in model._meta.concrete_fields:
            parent = field.related_model if field.is_relation else None
            if parent in ids_by_model and field.name != "partner":
                queryset = model.objects.for_partner(partner).filter(
                    **{f"{field.name}__in": ids_by_model[parent]}
                )
                rows[model._meta.label_lower] = [_row(obj) for obj in queryset.order_by("pk")]
                break
    return rows


def export_document(*, partner, customer: Customer) -> tuple[dict, list]:
    """(export.json's content, [(path in the ZIP, attachment)]) for one customer."""
    Ticket = apps.get_model("tickets", "Ticket")
    contacts = (
        CustomerContact.objects.for_partner(partner)
        .filter(customer=customer)
        .select_related("user")
        .order_by("pk")
    )
    tickets = (
        Ticket.objects.for_partner(partner)
        .filter(customer=customer)
        .select_related("requester", "assignee")
        .prefetch_related("messages__author", "events", "attachments")
        .order_by("pk")
    )
    files = []
    ticket_rows = []
    for ticket in tickets:
        row = _row(ticket)
        row["requester"] = _user(ticket.requester)
        row["messages"] = [
            {**_row(message, exclude=("partner", "ticket")), "author": _user(message.author)}
            for message in ticket.messages.all()
        ]
        row["events"] = [
            _row(event, exclude=("partner", "ticket")) for event in ticket.events.all()
        ]
        row["attachments"] = []
        for attachment in ticket.attachments.all():
            path = (
                f"attachments/{_safe_name(ticket.reference)}/"
                f"{attachment.pk}-{_safe_name(attachment.original_name)}"
            )
            row["attachments"].append(
                {**_row(attachment, exclude=("partner", "ticket", "file")), "path_in_export": path}
            )
            files.append((path, attachment))
        ticket_rows.append(row)
    document = {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": timezone.now(),
        "partner": {"id": partner.pk, "name": partner.display_name},
        "customer": _row(customer),
        "contacts": [
            {**_row(contact, exclude=("partner", "customer")), "user": _user(contact.user)}
            for contact in contacts
        ],
        "invitations": [
            _row(invitation, exclude=("partner", "token"))
            for invitation in Invitation.objects.for_partner(partner)
            .filter(customer=customer)
            .order_by("pk")
        ],
        "tickets": ticket_rows,
        "notes": (
            "Internal notes (messages with is_public false) are included; review them before "
            "passing the export on."
        ),
    }
    billing = _billing_rows(partner=partner, customer=customer)
    if billing is not None:
        document["billing"] = billing
    for name, exporter in _exporters.items():
        document[name] = exporter(partner=partner, customer=customer)
    return document, files


def export_build(*, partner, export: DataExport) -> DataExport:
    """Write the export's ZIP and mark it ready (the task calls this in the partner's scope)."""
    document, files = export_document(partner=partner, customer=export.customer)
    with tempfile.TemporaryFile() as buffer:
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(
                "export.json",
                json.dumps(document, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
            )
            for path, attachment in files:
                try:
                    with attachment.file.open("rb") as source:
                        with archive.open(path, "w") as target:
                            while chunk := source.read(1024 * 1024):
                                target.write(chunk)
                except FileNotFoundError:
                    logger.warning("attachment %s is missing from storage", attachment.pk)
                    archive.writestr(path + ".missing.txt", "The file was missing from storage.")
        size = buffer.tell()
        buffer.seek(0)
        export.file.save(export.filename, File(buffer), save=False)
    export.size = size
    export.status = DataExport.Status.READY
    export.finished_at = timezone.now()
    export.save(update_fields=["file", "size", "status", "finished_at"])
    return export


def export_fail(*, export: DataExport, error: Exception) -> None:
    DataExport.objects.for_partner(export.partner_id).filter(pk=export.pk).update(
        status=DataExport.Status.FAILED,
        error=f"{type(error).__name__}"[:200],
        finished_at=timezone.now(),
    )


def export_open(export: DataExport):
    return export.file.open("rb")


# -- erasure ----------------------------------------------------------------------------------


def _has_other_roles(*, user: User, partner, contact: CustomerContact) -> bool:
    """Whether the person is staff anywhere or a contact of another partner's customer. Read
    across partners (row-level security bypassed for this one question)."""
    with partner_scope(None, bypass=True):
        if Membership.objects.unscoped().filter(user=user).exists():
            return True
        return CustomerContact.objects.unscoped().filter(user=user).exclude(pk=contact.pk).exists()


def _pseudonymise(user: User, *, partner) -> None:
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.socialaccount.models import SocialAccount

    from csp_portal.api.models import ApiToken

    tag = secrets.token_hex(6)
    user.full_name = f"Erased person {tag}"
    user.email = f"erased-{tag}@erased.invalid"
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["full_name", "email", "is_active", "password"])
    EmailAddress.objects.filter(user=user).delete()
    SocialAccount.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    ApiToken.objects.for_partner(partner).filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


@transaction.atomic
def customer_erase_personal_data(*, partner, customer: Customer, acting_user) -> dict:
    """Pseudonymise the customer's people (see the module's notes); returns the counts."""
    if customer.partner_id != partner.pk:
        raise ValidationError(_("Unknown customer."))
    contacts = list(
        CustomerContact.objects.for_partner(partner)
        .filter(customer=customer)
        .select_related("user")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    erased_users = []
    kept_users = 0
    for contact in contacts:
        contact.phone = ""
        contact.is_active = False
        contact.save(update_fields=["phone", "is_active"])
        if _has_other_roles(user=contact.user, partner=partner, contact=contact):
            kept_users += 1
            continue
        _pseudonymise(contact.user, partner=partner)
        erased_users.append(contact.user)
    invitations = Invitation.objects.for_partner(partner).filter(customer=customer)
    for invitation in invitations:
        invitation.email = f"erased-{invitation.pk}@erased.invalid"
        invitation.revoked_at = invitation.revoked_at or (
            None if invitation.accepted_at else timezone.now()
        )
        invitation.save(update_fields=["email", "revoked_at"])
    Customer.objects.for_partner(partner).filter(pk=customer.pk).update(billing_email="")
    for eraser in _erasers:
        eraser(partner=partner, customer=customer, users=erased_users)
    result = {
        "contacts": len(contacts),
        "people_pseudonymised": len(erased_users),
        "people_with_other_roles_kept": kept_users,
        "invitations": len(invitations),
    }
    audit_record(
        partner=partner,
        actor=acting_user,
        action=Action.PERSONAL_DATA_ERASED,
        target=customer,
        data=result,
    )
    return result


__all__ = [
    "customer_erase_personal_data",
    "customer_export_downloaded",
    "customer_export_request",
    "export_build",
    "register_eraser",
    "register_exporter",
]
