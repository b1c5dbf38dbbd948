"""Two-factor sign-in changes come from allauth's MFA signals (the enrolment and recovery
pages are allauth's own), recorded in the audit log of the partner whose portal they were
made on."""

from __future__ import annotations

from allauth.mfa import signals

from .models import Action


def _record(action, request, user, authenticator):
    partner = getattr(request, "partner", None)
    if partner is None:
        return
    from csp_portal.accounts.tenancy import partner_scope

    from .services import audit_record

    # allauth sends these after commit, when the request's partner scope has ended.
    with partner_scope(partner):
        audit_record(
            partner=partner,
            actor=user,
            action=action,
            target=(authenticator._meta.label_lower, authenticator.pk or ""),
            data={"type": authenticator.type, "user_id": user.pk},
        )


def _added(sender, request, user, authenticator, **kwargs):
    _record(Action.MFA_ADDED, request, user, authenticator)


def _removed(sender, request, user, authenticator, **kwargs):
    _record(Action.MFA_REMOVED, request, user, authenticator)


def _reset(sender, request, user, authenticator, **kwargs):
    _record(Action.MFA_RESET, request, user, authenticator)


def connect() -> None:
    signals.authenticator_added.connect(_added, dispatch_uid="csp-audit-mfa-added")
    signals.authenticator_removed.connect(_removed, dispatch_uid="csp-audit-mfa-removed")
    signals.authenticator_reset.connect(_reset, dispatch_uid="csp-audit-mfa-reset")
