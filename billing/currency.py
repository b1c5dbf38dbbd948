"""Money helpers: ISO 4217 currency codes and parsing amounts from people and files.

Amounts are `Decimal` everywhere, always with a currency code beside them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Active ISO 4217 codes (currencies a partner may bill in).
ISO_CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS
    KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR
    MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF
    SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD
    TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL""".split()
)

CENT = Decimal("0.01")


def validate_currency(code: str) -> str:
    code = (code or "").strip().upper()
    if code not in ISO_CURRENCIES:
        raise ValidationError(
            _("Unknown currency %(code)s: use an ISO 4217 code such as EUR or USD."),
            params={"code": code or "''"},
            code="currency",
        )
    return code


def parse_amount(value, *, allow_negative: bool = False, allow_zero: bool = False) -> Decimal:
    """A money amount from text or a number; never through float."""
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip().replace(" ", "")
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValidationError(
            _("%(value)s is not an amount."), params={"value": text or "''"}, code="amount"
        ) from None
    if not amount.is_finite():
        raise ValidationError(
            _("%(value)s is not an amount."), params={"value": text}, code="amount"
        )
    if amount < 0 and not allow_negative:
        raise ValidationError(
            _("The amount cannot be negative (%(value)s)."), params={"value": text}, code="amount"
        )
    if amount == 0 and not allow_zero:
        raise ValidationError(_("The amount must be more than zero."), code="amount")
    return amount


def round_money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)
