"""`{% url %}` with its answers remembered, installed as a template builtin (settings) so
every template's `{% url %}` is this one.

A page names the same dozen or more URLs on every view (the navigation of base.html alone
has twenty `{% url %}` tags) and `reverse()` walks the URL patterns each time. Here each
answer is kept per process, keyed by everything `reverse()` reads: the view name, the
arguments, the current app, the request's URL configuration (a partner host has its own),
the script prefix (a `/p/<slug>/` partner path) and the language. A name that does not
reverse is not remembered, and raises as Django's tag does."""

from __future__ import annotations

import functools

from django import template
from django.conf import settings
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.translation import get_language

register = template.Library()


@functools.lru_cache(maxsize=4096)
def _reverse(view_name, args, kwargs, current_app, urlconf, prefix, language) -> str:
    return reverse(view_name, args=args, kwargs=dict(kwargs), current_app=current_app)


def remembered_reverse(view_name, args=(), kwargs=None, current_app=None) -> str:
    key_args = tuple(args)
    key_kwargs = tuple(sorted((kwargs or {}).items()))
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    try:
        return _reverse(
            view_name, key_args, key_kwargs, current_app, urlconf, get_script_prefix(),
            get_language(),
        )  # fmt: skip
    except TypeError:  # an argument that is not hashable: asked afresh
        return reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)


class RememberedURLNode(URLNode):
    def render(self, context):
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = ""
        try:
            url = remembered_reverse(view_name, args, kwargs, current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    node = django_url(parser, token)
    return RememberedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
