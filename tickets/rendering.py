"""Message bodies to safe HTML, and canned responses with their placeholders filled in."""

from __future__ import annotations

import functools
import re
import threading

import markdown as markdown_lib
import nh3
from django.utils.html import escape, linebreaks
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "a", "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody",
    "tr", "th", "td", "del",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


_converters = threading.local()


def _markdown(text: str) -> str:
    """Markdown to HTML with one converter per thread (building one loads every extension:
    most of the cost of a short message), reset between messages."""
    converter = getattr(_converters, "markdown", None)
    if converter is None:
        converter = _converters.markdown = markdown_lib.Markdown(
            extensions=["extra", "sane_lists"], output_format="html"
        )
    try:
        return converter.convert(text)
    finally:
        converter.reset()


# Bodies up to this size are remembered, converted, by each process (most recently shown
# first): a ticket page shown again converts none of its messages.
REMEMBERED_BODY_CHARS = 8_000


def render_body(body: str, body_format: str = "markdown") -> SafeString:
    """HTML for a message body. Markdown is converted, then sanitised against an allow-list:
    no script, style, iframe or event handler survives, links are http(s)/mailto only and get
    rel="noopener noreferrer nofollow". Plain text is escaped."""
    if body_format == "plain":
        return mark_safe(linebreaks(escape(body)))  # noqa: S308 — escaped just above
    if len(body) <= REMEMBERED_BODY_CHARS:
        return _remembered_markdown(body)
    return _sanitised_markdown(body)


def _sanitised_markdown(body: str) -> SafeString:
    html = _markdown(body)
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return mark_safe(cleaned)  # noqa: S308 — sanitised by nh3 with an allow-list


# The result depends on the text alone, so a remembered one is never stale.
_remembered_markdown = functools.lru_cache(maxsize=1024)(_sanitised_markdown)


_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")


def placeholder_values(*, ticket, agent) -> dict[str, str]:
    requester = ticket.requester
    return {
        "customer.company_name": ticket.customer.company_name,
        "ticket.reference": ticket.reference,
        "ticket.subject": ticket.subject,
        "requester.name": (requester.full_name or requester.email) if requester else "",
        "agent.name": (agent.full_name or agent.email) if agent else "",
        "partner.display_name": ticket.partner.display_name,
    }


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    """Replace known `{{ name.field }}` placeholders by plain substitution (never the template
    engine: the text is written by users). Unknown placeholders stay as typed."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
