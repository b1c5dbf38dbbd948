"""Real RFC 5322 messages for the inbound e-mail tests, built with email.message.EmailMessage."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


def build_message(
    *,
    sender: str,
    to: str,
    body: str = "Thanks, that worked.",
    subject: str = "Re: your request",
    cc: str | None = None,
    message_id: str | None = None,
    html: str | None = None,
    attachments: tuple[tuple[str, bytes, str], ...] = (),
    headers: dict[str, str] | None = None,
) -> bytes:
    """One message; `attachments` are (file name, bytes, MIME type)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = message_id or make_msgid(domain="mail.customer.example")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, content, mime in attachments:
        maintype, subtype = mime.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


QUOTED_REPLY = """Restarting the VM fixed it, thank you!

Kind regards,
Jan

On Tue, 24 Nov 2026 at 10:12, Alpha Support <support@localhost>
wrote:
> Please restart the VM and tell us whether it starts.
>
> -- Alpha
"""
