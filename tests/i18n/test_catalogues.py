"""Every translatable string of the portal has a Dutch translation that Django will use.

The strings are extracted in Python (no GNU gettext needed): templates through Django's own
`templatize` (what `makemessages` feeds to xgettext), Python modules directly; each is looked
up in the Dutch catalogue Django builds at run time (the project's locale/, the apps' own
locale/ directories, Django's and allauth's), so a missing, empty or fuzzy entry, or a .po
file whose .mo was not compiled, fails here."""

from __future__ import annotations

import gettext
import io
import re
import tokenize
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
SOURCE_DIRS = ["csp_portal", "tickets", "billing", "escalation", "templates"]
CALLS = {
    "_": ("msgid",),
    "gettext": ("msgid",),
    "gettext_lazy": ("msgid",),
    "gettext_noop": ("msgid",),
    "ngettext": ("msgid", "plural"),
    "ngettext_lazy": ("msgid", "plural"),
    "pgettext": ("context", "msgid"),
    "pgettext_lazy": ("context", "msgid"),
    "npgettext": ("context", "msgid", "plural"),
    "npgettext_lazy": ("context", "msgid", "plural"),
}
CALL = re.compile(r"(?<![\w.])(" + "|".join(re.escape(name) for name in CALLS) + r")\(")
PROJECT_CATALOGUE = ROOT / "locale" / "nl" / "LC_MESSAGES" / "django.po"


def _source_files():
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            if "migrations" in path.parts or "__pycache__" in path.parts:
                continue
            if path.suffix == ".py" or (
                path.suffix in (".html", ".txt") and "templates" in path.parts
            ):
                yield path


def _arguments(text: str, start: int) -> list[str] | None:
    """The string-literal arguments of the call whose "(" ends at `start`; None when an
    argument is not a plain literal (an f-string, a variable)."""
    values, current = [], None
    tokens = tokenize.generate_tokens(io.StringIO(text[start:]).readline)
    try:
        for token in tokens:
            if token.type == tokenize.STRING:
                if token.string.lstrip("rRuUbB")[:1] not in "'\"":
                    return None  # f-string
                literal = eval(token.string)  # noqa: S307 — a literal token only
                current = literal if current is None else current + literal
            elif token.type in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
                continue
            elif token.type == tokenize.OP and token.string in (",", ")"):
                if current is None:
                    return values or None
                values.append(current)
                current = None
                if token.string == ")":
                    return values
            else:
                return values or None
    except (tokenize.TokenError, SyntaxError):
        return values or None
    return values or None


def extract(path: Path) -> set[tuple[str | None, str, str | None]]:
    """(context, msgid, plural) of every translatable string in one file."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        text = templatize(text, origin=str(path))
    found = set()
    for match in CALL.finditer(text):
        values = _arguments(text, match.end())
        roles = CALLS[match[1]]
        if not values or len(values) < len(roles):
            continue
        named = dict(zip(roles, values, strict=False))
        found.add((named.get("context"), named["msgid"], named.get("plural")))
    return found


def all_strings() -> dict[tuple, list[str]]:
    strings: dict[tuple, list[str]] = {}
    for path in _source_files():
        for key in extract(path):
            strings.setdefault(key, []).append(str(path.relative_to(ROOT)))
    return strings


def test_the_extractor_finds_template_and_python_strings():
    strings = all_strings()

    assert (None, "Submit a request", None) in strings  # {% translate %}
    assert (None, "Reply or add a note", None) in strings
    assert (None, "Aging in %(currency)s", None) in strings  # {% blocktranslate %}
    assert (None, "What is it about?", None) in strings  # gettext_lazy in a form
    assert (
        None,
        "%(n)s invoice is on hold and skipped.",
        "%(n)s invoices are on hold and skipped.",
    ) in strings  # {% blocktranslate count %}
    assert len(strings) > 1000


def test_every_string_has_a_dutch_translation():
    with translation.override("nl"):
        catalogue = translation.trans_real.translation("nl")._catalog
    missing = []
    for (context, msgid, plural), files in sorted(
        all_strings().items(), key=lambda item: item[0][1]
    ):
        key = msgid if context is None else f"{context}\x04{msgid}"
        if plural is not None:
            key = (key, 0)
        if not msgid.strip() or key in catalogue:
            continue
        missing.append(f"{msgid!r} ({files[0]})")
    assert missing == [], (
        f"{len(missing)} strings have no Dutch translation; add them to "
        f"locale/nl/LC_MESSAGES/django.po (makemessages -l nl, or by hand for strings "
        f"inside f-strings) and compile it (compilemessages):\n" + "\n".join(missing)
    )


def _po_entries(path: Path) -> list[dict]:
    entries, entry, field = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip() or line.startswith("#~"):
            if entry is not None:
                entries.append(entry)
            entry = None
            continue
        entry = entry or {"flags": "", "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] += line
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d)\])?) (\".*\")$", line)
        if match:
            field = match[1]
            value = eval(match[3])  # noqa: S307 — a quoted .po string
            if field.startswith("msgstr"):
                entry["msgstr"][int(match[2] or 0)] = value
                field = ("msgstr", int(match[2] or 0))
            else:
                entry[field] = value
        else:
            value = eval(line)  # noqa: S307 — a quoted .po continuation line
            if isinstance(field, tuple):
                entry["msgstr"][field[1]] += value
            else:
                entry[field] += value
    return [e for e in entries if e.get("msgid")]


def test_the_dutch_catalogue_has_no_fuzzy_or_empty_entry():
    entries = _po_entries(PROJECT_CATALOGUE)

    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    empty = [e["msgid"] for e in entries if not all(e["msgstr"].values())]

    assert (fuzzy, empty) == ([], [])


CATALOGUES = sorted(ROOT.glob("locale/nl/LC_MESSAGES/django.po")) + sorted(
    ROOT.glob("*/locale/nl/LC_MESSAGES/django.po")
)


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda po: str(po.relative_to(ROOT)))
def test_each_compiled_catalogue_matches_its_source(po):
    with po.with_suffix(".mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    stale = []
    for entry in _po_entries(po):
        if "fuzzy" in entry["flags"] or not all(entry["msgstr"].values()):
            continue
        context = entry.get("msgctxt")
        if "msgid_plural" in entry:
            got = (
                catalogue.npgettext(context, entry["msgid"], entry["msgid_plural"], 1)
                if context
                else catalogue.ngettext(entry["msgid"], entry["msgid_plural"], 1)
            )
        else:
            got = (
                catalogue.pgettext(context, entry["msgid"])
                if context
                else catalogue.gettext(entry["msgid"])
            )
        if got != entry["msgstr"][0]:
            stale.append(entry["msgid"])
    assert stale == [], f"{po.with_suffix('.mo')} is out of date: compile {po}"
