"""Recording audit events. `audit_record` is the one entry point, for every app:

    from csp_portal.audit.services import audit_record
    audit_record(partner=partner, actor=user, action="subscription.suspended",
                 target=subscription, data={"reason": "non-payment"})

Call it inside the transaction of the change it records, so both commit or neither does.
The request id and client address come from the current request (or Celery task) by
themselves."""

from __future__ import annotations

from django.db import models

from csp_portal.ops import context

from .models import AuditEvent


def _target(target) -> tuple[str, str]:
    if target is None:
        return "", ""
    if isinstance(target, models.Model):
        return target._meta.label_lower, str(target.pk)
    kind, pk = target  # ("billing.subscription", 42)
    return str(kind), str(pk)


def audit_record(*, partner, actor, action: str, target=None, data=None) -> AuditEvent:
    """Append one event to `partner`'s audit log. `actor` is a user, or None for the system
    (a sweep, a webhook); `target` a model instance or a (type, id) pair; `data` JSON."""
    work = context.current()
    target_type, target_id = _target(target)
    actor_id = getattr(actor, "pk", None) if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        partner_id=getattr(partner, "pk", partner),
        actor_id=actor_id,
        action=str(action),
        target_type=target_type,
        target_id=target_id,
        data=data or {},
        ip=work.ip,
        request_id=work.request_id,
    )
