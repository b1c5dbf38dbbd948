"""`get_FOO_display()` without re-hashing every label on every call.

Django's own `get_FOO_display()` builds a dict of the field's choices on each call, hashing
every lazily translated label — one translation lookup per choice of the field, per call. A
list of 25 tickets showing kind, product, status and priority made some 450 lookups that way.
`install()` (from the accounts app's `ready()`, when every model is loaded) gives each model
field with a fixed list of choices a display method that builds its value → label map once
and translates only the label it returns, in the active language as before. Methods a model
defines itself, and fields whose choices are computed when asked, keep Django's.
"""

from __future__ import annotations

from functools import partialmethod

from django.apps import apps
from django.db.models import Model
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable


def _display_method(field):
    labels: dict = {}

    def display(self):
        if not labels:
            labels.update((make_hashable(value), label) for value, label in field.flatchoices)
        value = getattr(self, field.attname)
        try:
            label = labels.get(value, value)
        except TypeError:  # an unhashable value (a JSON field's list, say)
            label = labels.get(make_hashable(value), value)
        return force_str(label, strings_only=True)

    display.__name__ = f"get_{field.name}_display"
    return display


def _is_djangos(method) -> bool:
    return isinstance(method, partialmethod) and method.func is Model._get_FIELD_display


def install() -> int:
    """Replace Django's display methods of fixed-choice fields; the number replaced."""
    replaced = 0
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field.choices, list | tuple) or not field.choices:
                continue
            name = f"get_{field.name}_display"
            if _is_djangos(model.__dict__.get(name)):
                setattr(model, name, _display_method(field))
                replaced += 1
    return replaced
