"""Microsoft's case e-mails, filed on the escalation that carries the case number.

The tickets app reads inbound mail and, for a message to the partner's support address whose
subject names a Microsoft case, asks the handlers registered here (escalation depends on
tickets, never the other way round)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .models import Escalation, EscalationEvent
from .services import _system_note, escalation_event


def file_case_email(*, partner, case_number: str, message):
    """Add the e-mail to the escalation's ticket as an internal note (customers never see
    Microsoft's mail unfiltered) and to the escalation's history. None when no escalation of
    this partner has the case number: the usual inbound rules apply then."""
    escalation = (
        Escalation.objects.for_partner(partner)
        .select_related("ticket")
        .filter(case_number=case_number)
        .order_by("-pk")
        .first()
    )
    if escalation is None:
        return None
    note = _("E-mail from Microsoft about case %(case)s (%(sender)s): %(subject)s") % {
        "case": case_number,
        "sender": message.sender,
        "subject": message.subject,
    }
    note = f"{note}\n\n{message.text}"
    if message.attachments:
        names = ", ".join(attachment.filename for attachment in message.attachments)
        note += "\n\n" + _("Attachments in the e-mail: %(names)s") % {"names": names}
    _system_note(escalation.ticket, note)
    escalation_event(
        escalation, EscalationEvent.Kind.MESSAGE_IN, None, f"e-mail: {message.subject}"
    )
    return escalation.ticket
