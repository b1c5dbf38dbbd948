"""Reply addresses that route an e-mail answer to its ticket.

Every notification sent to a person carries `Reply-To: reply+<token>@<INBOUND_EMAIL_DOMAIN>`.
The token names the partner, the ticket and the recipient, and when it was issued, followed by
an HMAC of those bytes (SHA-256 with a salt of its own, truncated to 80 bits). It is written in
lower-case base32 because mail systems may change the case of an address's local part.
Nothing is stored: the HMAC is the proof. The key is SECRET_KEY (SECRET_KEY_FALLBACKS are
accepted, so rotating the key does not orphan replies in flight).

Numbers are varints: with ids below 2**35 a token is at most 29 bytes, 47 base32 characters
("reply+" and the token: 53), inside the 64 an address's local part may have; with today's
ids it is about 36.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "tickets.email_tokens.reply-address"
VERSION = 1
MAC_BYTES = 10
LOCAL_PREFIX = "reply+"


class ReplyTokenError(Exception):
    """The token cannot be used; `reason` says why, for the operator's log."""

    reason = "unreadable reply address"


class ReplyTokenInvalid(ReplyTokenError):
    reason = "forged or damaged reply address"


class ReplyTokenExpired(ReplyTokenError):
    reason = "expired reply address"

    def __init__(self, token: ReplyToken):
        super().__init__(self.reason)
        self.token = token


@dataclass(frozen=True)
class ReplyToken:
    partner_id: int
    ticket_id: int
    user_id: int
    issued_hour: int  # hours since the Unix epoch

    @property
    def issued_at(self):
        return datetime.fromtimestamp(self.issued_hour * 3600, tz=UTC)


def _varint(number: int) -> bytes:
    if number < 0:
        raise ValueError("reply tokens carry non-negative numbers only")
    out = bytearray()
    while True:
        byte, number = number & 0x7F, number >> 7
        out.append(byte | (0x80 if number else 0))
        if not number:
            return bytes(out)


def _read_varints(data: bytes, count: int) -> list[int]:
    numbers, value, shift = [], 0, 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if shift > 63:
            raise ReplyTokenInvalid
        if not byte & 0x80:
            numbers.append(value)
            value, shift = 0, 0
    if shift or len(numbers) != count:
        raise ReplyTokenInvalid
    return numbers


def _mac(payload: bytes, secret) -> bytes:
    return salted_hmac(SALT, payload, secret=secret, algorithm="sha256").digest()[:MAC_BYTES]


def _now_hour() -> int:
    return int(timezone.now().timestamp()) // 3600


def reply_token_make(*, partner_id: int, ticket_id: int, user_id: int) -> str:
    payload = bytes([VERSION]) + b"".join(
        _varint(int(n)) for n in (partner_id, ticket_id, user_id, _now_hour())
    )
    raw = payload + _mac(payload, settings.SECRET_KEY)
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def reply_address(*, partner_id: int, ticket_id: int, user_id: int) -> str:
    token = reply_token_make(partner_id=partner_id, ticket_id=ticket_id, user_id=user_id)
    return f"{LOCAL_PREFIX}{token}@{settings.INBOUND_EMAIL_DOMAIN}"


def reply_token_read(token: str) -> ReplyToken:
    """The token's claims once its HMAC verifies; ReplyTokenInvalid for anything forged or
    damaged, ReplyTokenExpired (with the verified claims) for one older than
    INBOUND_REPLY_TOKEN_MAX_AGE_DAYS."""
    text = token.strip().upper()
    if not text or len(text) > 80 or not re.fullmatch(r"[A-Z2-7]+", text):
        raise ReplyTokenInvalid
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError) as error:
        raise ReplyTokenInvalid from error
    if base64.b32encode(raw).decode("ascii").rstrip("=") != text:
        raise ReplyTokenInvalid  # stray bits in the last character: one spelling per token
    payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    if len(payload) < 5 or payload[0] != VERSION:
        raise ReplyTokenInvalid
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    if not any(constant_time_compare(mac, _mac(payload, secret)) for secret in secrets):
        raise ReplyTokenInvalid
    claims = ReplyToken(*_read_varints(payload[1:], 4))
    max_age = timedelta(days=settings.INBOUND_REPLY_TOKEN_MAX_AGE_DAYS)
    if timezone.now() - claims.issued_at > max_age:
        raise ReplyTokenExpired(claims)
    return claims


def reply_tokens_in(addresses) -> list[str]:
    """The tokens of the reply addresses among `addresses` (at the inbound domain only)."""
    domain = settings.INBOUND_EMAIL_DOMAIN.lower()
    tokens = []
    for address in addresses:
        local, _at, host = address.strip().rpartition("@")
        if host.lower() == domain and local.lower().startswith(LOCAL_PREFIX):
            tokens.append(local[len(LOCAL_PREFIX) :])
    return tokens
