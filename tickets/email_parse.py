"""Reading an RFC 5322 message with the standard library (`email`, policy=default): who sent
it, to whom, its text with the quoted history cut off, and its attachments. No database here."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from email import errors as email_errors
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses

import nh3

# Defects after which the structure of the message cannot be trusted.
FATAL_DEFECTS = (
    email_errors.NoBoundaryInMultipartDefect,
    email_errors.StartBoundaryNotFoundDefect,
    email_errors.MultipartInvariantViolationDefect,
    email_errors.InvalidMultipartContentTransferEncodingDefect,
    email_errors.MissingHeaderBodySeparatorDefect,
)
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


class MalformedMessage(ValueError):
    """The bytes are not a message this desk can read; the text says why."""


@dataclass
class ParsedAttachment:
    filename: str
    content: bytes


@dataclass
class ParsedEmail:
    sender: str
    sender_name: str
    recipients: list[str]
    subject: str
    message_id: str
    text: str
    is_automatic: bool
    attachments: list[ParsedAttachment] = field(default_factory=list)
    dedupe_key: str = ""


def _header(message: EmailMessage, name: str) -> str:
    value = message.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def _addresses(message: EmailMessage, name: str) -> list[tuple[str, str]]:
    values = [str(v) for v in message.get_all(name, [])]
    return [(n, a.strip().lower()) for n, a in getaddresses(values) if "@" in a]


def _is_automatic(message: EmailMessage) -> bool:
    """Auto-replies, bounces and list traffic: never a person answering (RFC 3834 and the
    headers Exchange and common autoresponders set). Answering them would start mail loops."""
    auto = _header(message, "Auto-Submitted").lower()
    precedence = _header(message, "Precedence").lower()
    return (
        (auto != "" and auto != "no")
        or precedence in {"bulk", "junk", "list", "auto_reply"}
        or bool(message.get("X-Autoreply") or message.get("X-Autorespond"))
        or bool(message.get("X-MS-Exchange-Inbox-Rules-Loop"))
        or _header(message, "Content-Type").lower().startswith("multipart/report")
    )


def _part_text(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    return content if isinstance(content, str) else content.decode("utf-8", errors="replace")


# Where the quoted history of an HTML reply begins (Gmail, Outlook, Apple Mail, Thunderbird).
_HTML_QUOTE_STARTS = re.compile(
    r"<blockquote|<div[^>]+(?:gmail_quote|divRplyFwdMsg|appendonsend|moz-cite-prefix)",
    re.IGNORECASE,
)
_HTML_BREAKS = re.compile(r"<br\s*/?>|</(?:p|div|li|tr|h[1-6])\s*>", re.IGNORECASE)


def html_to_text(markup: str) -> str:
    """The readable text of an HTML body, history cut at its first quote block."""
    start = _HTML_QUOTE_STARTS.search(markup)
    if start:
        markup = markup[: start.start()]
    markup = _HTML_BREAKS.sub("\n", markup)
    text = html.unescape(nh3.clean(markup, tags=set(), strip_comments=True))
    return re.sub(r"[ \t]+\n", "\n", text)


# Lines where the quoted history of a plain-text reply begins. "On <date>, <name> wrote:" may
# be wrapped over up to three lines; so may the Dutch "Op <datum> schreef <naam>:".
_QUOTE_HEADERS = [
    re.compile(r"^On\b[^\n]*(?:\n[^\n]*){0,2}?\bwrote:[ \t]*$", re.MULTILINE),
    re.compile(r"^Op\b[^\n]*(?:\n[^\n]*){0,2}?\bschreef\b[^\n]*:[ \t]*$", re.MULTILINE),
    re.compile(
        r"^[ \t]*-{2,}[ \t]*(?:Original Message|Oorspronkelijk bericht|Originele bericht|"
        r"Forwarded message|Doorgestuurd bericht)[ \t]*-{2,}",
        re.MULTILINE | re.IGNORECASE,
    ),
    # Outlook's header block: "From: ...", then "Sent:"/"Date:" (Dutch "Van:", "Verzonden:").
    re.compile(r"^_{8,}[ \t]*\n(?=(?:From|Van):)", re.MULTILINE),
    re.compile(r"^(?:From|Van):[^\n]*\n(?:Sent|Date|Verzonden|Datum):", re.MULTILINE),
]


def strip_quoted(text: str) -> str:
    """The new part of a reply: everything from the first quote header on is cut, then the
    `>`-quoted lines at the end. A reply written below the quote (nothing above it) keeps its
    text without the `>` lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    cut = min((m.start() for p in _QUOTE_HEADERS if (m := p.search(text))), default=len(text))
    lines = text[:cut].rstrip().split("\n")
    while lines and (lines[-1].lstrip().startswith(">") or not lines[-1].strip()):
        lines.pop()
    reply = "\n".join(lines).strip()
    if reply:
        return reply
    unquoted = [line for line in text.split("\n") if not line.lstrip().startswith(">")]
    below = "\n".join(unquoted)
    cut = min((m.end() for p in _QUOTE_HEADERS if (m := p.search(below))), default=0)
    return below[cut:].strip()


def _body_and_attachments(message: EmailMessage) -> tuple[str, list[ParsedAttachment]]:
    body_part = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if body_part is not None:
        content = _part_text(body_part)
        text = html_to_text(content) if body_part.get_content_subtype() == "html" else content
    attachments = []
    for part in message.walk():
        if part is body_part or part.is_multipart():
            continue
        filename = part.get_filename()
        if not filename and part.get_content_disposition() != "attachment":
            continue  # an alternative body, not a file
        payload = part.get_payload(decode=True) or b""
        name = re.sub(r"[\x00-\x1f/\\]", "_", filename or "attachment").strip() or "attachment"
        attachments.append(ParsedAttachment(filename=name[-200:], content=payload))
    return strip_quoted(text), attachments


def parse_message(raw_bytes: bytes) -> ParsedEmail:
    """A ParsedEmail, or MalformedMessage with the reason."""
    if not raw_bytes or not raw_bytes.strip():
        raise MalformedMessage("empty message")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw_bytes)
        defects = list(message.defects)
        for part in message.walk():
            defects.extend(part.defects)
        fatal = [d for d in defects if isinstance(d, FATAL_DEFECTS)]
        if fatal:
            raise MalformedMessage(f"broken MIME structure ({type(fatal[0]).__name__})")
        senders = _addresses(message, "From")
        if not senders:
            raise MalformedMessage("no sender address (From)")
        recipients = []
        for name in RECIPIENT_HEADERS:
            recipients.extend(address for _n, address in _addresses(message, name))
        if not recipients:
            raise MalformedMessage("no recipient address (To, Cc or Delivered-To)")
        text, attachments = _body_and_attachments(message)
        subject = _header(message, "Subject")
        message_id = _header(message, "Message-ID").strip("<>")[:255]
        automatic = _is_automatic(message)
    except MalformedMessage:
        raise
    except (email_errors.MessageError, ValueError, LookupError, IndexError, TypeError) as error:
        raise MalformedMessage(f"unreadable message ({type(error).__name__})") from error
    key_source = f"message-id:{message_id}".encode() if message_id else raw_bytes
    return ParsedEmail(
        sender=senders[0][1],
        sender_name=senders[0][0][:200],
        recipients=list(dict.fromkeys(recipients)),
        subject=subject[:255],
        message_id=message_id,
        text=text,
        is_automatic=automatic,
        attachments=attachments,
        dedupe_key=hashlib.sha256(key_source).hexdigest(),
    )
