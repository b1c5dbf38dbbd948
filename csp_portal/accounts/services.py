"""Changes to partners, customers and people. Each is atomic and sends its e-mail after
commit, through Celery."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from csp_portal import outbox

from .models import ContactRole, Customer, CustomerContact, Invitation, Membership, Role, User


def _audit(**kwargs) -> None:
    from csp_portal.audit.services import audit_record

    audit_record(**kwargs)


def _send_invitation_after_commit(invitation: Invitation) -> None:
    from .tasks import send_invitation

    outbox.enqueue(send_invitation, partner_id=invitation.partner_id, invitation_id=invitation.pk)


def _check_not_member(*, partner, email: str) -> None:
    if Membership.objects.for_partner(partner).filter(user__email__iexact=email).exists():
        raise ValidationError({"email": _("This person is already on the partner's staff.")})
    if CustomerContact.objects.for_partner(partner).filter(user__email__iexact=email).exists():
        raise ValidationError({"email": _("This person is already a customer contact here.")})


@transaction.atomic
def invitation_create_staff(*, partner, email: str, roles: list[str], invited_by) -> Invitation:
    email = email.strip().lower()
    if not roles:
        raise ValidationError({"roles": _("Choose at least one role.")})
    roles = [Role(role).value for role in roles]
    _check_not_member(partner=partner, email=email)
    Invitation.objects.for_partner(partner).filter(
        email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    invitation = Invitation.objects.create(
        partner=partner, email=email, roles=roles, invited_by=invited_by
    )
    _audit(
        partner=partner,
        actor=invited_by,
        action="invitation.created",
        target=invitation,
        data={"email": email, "roles": roles},
    )
    _send_invitation_after_commit(invitation)
    return invitation


@transaction.atomic
def invitation_create_contact(
    *, partner, customer: Customer, email: str, contact_role: str, invited_by
) -> Invitation:
    email = email.strip().lower()
    if customer.partner_id != partner.pk:
        raise ValidationError(_("Unknown customer."))
    contact_role = ContactRole(contact_role).value
    _check_not_member(partner=partner, email=email)
    Invitation.objects.for_partner(partner).filter(
        email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    invitation = Invitation.objects.create(
        partner=partner,
        email=email,
        customer=customer,
        contact_role=contact_role,
        invited_by=invited_by,
    )
    _audit(
        partner=partner,
        actor=invited_by,
        action="invitation.created",
        target=invitation,
        data={"email": email, "customer_id": customer.pk, "contact_role": contact_role},
    )
    _send_invitation_after_commit(invitation)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, acting_user=None) -> None:
    revoked = (
        Invitation.objects.for_partner(invitation.partner_id)
        .filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True)
        .update(revoked_at=timezone.now())
    )
    if revoked:
        _audit(
            partner=invitation.partner_id,
            actor=acting_user,
            action="invitation.revoked",
            target=invitation,
            data={"email": invitation.email},
        )


@transaction.atomic
def invitation_accept(
    *, invitation: Invitation, user: User | None, full_name: str = "", password: str = ""
) -> User:
    """Join the partner's portal. A new person sets a password; a signed-in person whose
    e-mail matches joins with the account they have. The invitation is used once."""
    locked = (
        Invitation.objects.for_partner(invitation.partner_id)
        .select_for_update()
        .get(pk=invitation.pk)
    )
    if not locked.is_open:
        raise ValidationError(_("This invitation has expired or was already used."))
    if user is None:
        if User.objects.filter(email__iexact=locked.email).exists():
            raise ValidationError(_("An account with this e-mail exists: sign in first."))
        user = User.objects.create_user(email=locked.email, password=password, full_name=full_name)
    elif user.email.lower() != locked.email:
        raise ValidationError(_("This invitation was sent to another e-mail address."))
    _mark_email_verified(user)
    if locked.is_staff_invitation:
        Membership.objects.create(partner_id=locked.partner_id, user=user, roles=locked.roles)
    else:
        CustomerContact.objects.create(
            partner_id=locked.partner_id,
            customer_id=locked.customer_id,
            user=user,
            role=locked.contact_role,
        )
    locked.accepted_at = timezone.now()
    locked.save(update_fields=["accepted_at"])
    _audit(
        partner=locked.partner_id,
        actor=user,
        action="invitation.accepted",
        target=locked,
        data={"user_id": user.pk, "roles": locked.roles, "customer_id": locked.customer_id},
    )
    return user


def _mark_email_verified(user: User) -> None:
    """The invitation reached this address, which proves it."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


@transaction.atomic
def membership_update(
    *, membership: Membership, roles: list[str], is_active: bool, acting_user
) -> Membership:
    roles = [Role(role).value for role in roles]
    if is_active and not roles:
        raise ValidationError({"roles": _("Choose at least one role, or deactivate the member.")})
    losing_admin = Role.GLOBAL_ADMIN in membership.roles and (
        Role.GLOBAL_ADMIN not in roles or not is_active
    )
    if losing_admin:
        other_admins = (
            Membership.objects.for_partner(membership.partner_id)
            .filter(is_active=True, roles__contains=[Role.GLOBAL_ADMIN])
            .exclude(pk=membership.pk)
        )
        if not other_admins.exists():
            raise ValidationError(_("A partner keeps at least one active global admin."))
    before = {"roles": list(membership.roles), "is_active": membership.is_active}
    membership.roles = roles
    membership.is_active = is_active
    membership.save(update_fields=["roles", "is_active"])
    after = {"roles": roles, "is_active": is_active}
    if after != before:
        _audit(
            partner=membership.partner_id,
            actor=acting_user,
            action="membership.updated",
            target=membership,
            data={"user_id": membership.user_id, "before": before, "after": after},
        )
    return membership


@transaction.atomic
def contact_update(
    *, contact: CustomerContact, role: str, is_active: bool, acting_user=None
) -> CustomerContact:
    before = {"role": contact.role, "is_active": contact.is_active}
    contact.role = ContactRole(role).value
    contact.is_active = is_active
    contact.save(update_fields=["role", "is_active"])
    after = {"role": contact.role, "is_active": is_active}
    if after != before:
        _audit(
            partner=contact.partner_id,
            actor=acting_user,
            action="contact.updated",
            target=contact,
            data={
                "user_id": contact.user_id,
                "customer_id": contact.customer_id,
                "before": before,
                "after": after,
            },
        )
    return contact


@transaction.atomic
def support_offering_update(*, partner, formsets) -> None:
    """Save the published support offering (plans, hours, holidays, contact methods) as one
    change: every formset was validated before this is called, and all are saved or none."""
    for formset in formsets:
        if formset.partner.pk != partner.pk:
            raise ValidationError(_("These rows belong to another partner."))
        formset.save()
