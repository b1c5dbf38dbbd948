"""E-mail that accounts sends, after commit, from a Celery worker."""

from email.utils import formataddr

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from .models import Invitation, Partner
from .tenancy import partner_scope
from .urls_util import partner_url


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, max_retries=8)
def send_invitation(*, partner_id: int, invitation_id: int) -> None:
    with partner_scope(partner_id):
        partner = Partner.objects.get(pk=partner_id)
        invitation = (
            Invitation.objects.for_partner(partner)
            .select_related("customer", "invited_by")
            .filter(pk=invitation_id)
            .first()
        )
        if invitation is None or not invitation.is_open:
            return
        language = invitation.customer.language if invitation.customer else partner.default_language
        with translation.override(language):
            context = {
                "partner": partner,
                "invitation": invitation,
                "accept_url": partner_url(
                    partner, "accounts:invitation-accept", token=invitation.token
                ),
            }
            subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
            text = render_to_string("accounts/email/invitation.txt", context)
            html = render_to_string("accounts/email/invitation.html", context)
        message = EmailMultiAlternatives(
            subject=" ".join(subject.splitlines()),
            body=text,
            from_email=formataddr((partner.display_name, settings.DEFAULT_FROM_EMAIL)),
            to=[invitation.email],
            reply_to=[partner.support_email] if partner.support_email else None,
        )
        message.attach_alternative(html, "text/html")
        message.send()
