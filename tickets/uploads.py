"""Checks on uploaded attachments: size limits from settings, and the content type detected
from the bytes (never from the name or the browser's claim)."""

from __future__ import annotations

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

ALLOWED_TYPES = {
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "text/plain",
}
OFFICE_BY_SUFFIX = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
ACCEPTED_DESCRIPTION = "PDF, PNG, JPEG, GIF, ZIP, Word, Excel, PowerPoint, plain text"
_MARKUP_STARTS = (b"<!doctype", b"<html", b"<svg", b"<?xml", b"<script", b"<head", b"<body")
SNIFF_BYTES = 8192


def _read_head(upload) -> bytes:
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    return head


def detect_content_type(head: bytes, name: str = "") -> str | None:
    """The type the bytes say, or None when they are not an accepted type. HTML, SVG and
    XML are refused even though they are text: a browser would run them."""
    kind = filetype.guess(head)
    if kind is not None:
        mime = kind.mime
        if mime == "application/zip":
            suffix = name[name.rfind(".") :].lower() if "." in name else ""
            mime = OFFICE_BY_SUFFIX.get(suffix, mime)
        return mime if mime in ALLOWED_TYPES else None
    if b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the sniff boundary is still text.
        if error.start < len(head) - 4:
            return None
        text = head[: error.start].decode("utf-8")
    lowered = text.lstrip("\ufeff \t\r\n").lower().encode()
    if lowered.startswith(_MARKUP_STARTS) or b"<script" in lowered or b"<svg" in lowered:
        return None
    return "text/plain"


def check_uploads(uploads, *, existing_total: int = 0) -> list[tuple[object, str]]:
    """Validate every upload before anything is stored; (upload, content type) pairs."""
    max_file = settings.TICKET_ATTACHMENT_MAX_BYTES
    max_total = settings.TICKET_ATTACHMENTS_MAX_TOTAL_BYTES
    checked = []
    total = existing_total
    for upload in uploads:
        name = upload.name or "file"
        if not upload.size:
            raise ValidationError(_("%(name)s is empty.") % {"name": name})
        if upload.size > max_file:
            raise ValidationError(
                _("%(name)s is larger than %(limit)s, the limit per file.")
                % {"name": name, "limit": filesizeformat(max_file)}
            )
        content_type = detect_content_type(_read_head(upload), name)
        if content_type is None:
            raise ValidationError(
                _("%(name)s is not a file type we accept (%(types)s).")
                % {"name": name, "types": ACCEPTED_DESCRIPTION}
            )
        total += upload.size
        checked.append((upload, content_type))
    if total > max_total:
        raise ValidationError(
            _("The attachments of one request may not exceed %(limit)s in all.")
            % {"limit": filesizeformat(max_total)}
        )
    return checked
