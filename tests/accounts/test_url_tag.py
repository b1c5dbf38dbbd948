"""Every template's {% url %} remembers its answers, keyed so that a partner's path prefix,
the URL configuration and the arguments each get their own."""

import pytest
from django.conf import settings
from django.template import Context, Template, engines
from django.test import Client
from django.urls import NoReverseMatch, reverse, set_script_prefix, set_urlconf

from csp_portal import url_tag


@pytest.fixture
def partner_urls():
    """The partner host's URLs, as PartnerMiddleware sets them for a request."""
    set_urlconf(settings.PARTNER_URLCONF)
    yield
    set_urlconf(None)


def _render(text: str, **context) -> str:
    return Template("{% load i18n %}" + text).render(Context(context))


def test_the_url_tag_is_the_remembering_one_and_answers_as_reverse(partner_urls):
    engine = engines["django"].engine
    assert engine.template_builtins[-1].tags["url"] is url_tag.url

    url_tag._reverse.cache_clear()
    first = _render("{% url 'tickets:ticket-detail' ticket_id=5 %}")
    again = _render("{% url 'tickets:ticket-detail' ticket_id=n %}", n=5)
    other = _render("{% url 'tickets:ticket-detail' ticket_id=6 %}")

    assert first == again == reverse("tickets:ticket-detail", kwargs={"ticket_id": 5})
    assert first == "/staff/tickets/5/"
    assert other == reverse("tickets:ticket-detail", kwargs={"ticket_id": 6})
    info = url_tag._reverse.cache_info()
    assert (info.hits, info.misses) == (1, 2)


def test_a_script_prefix_and_the_url_configuration_are_part_of_the_key(partner_urls):
    plain = _render("{% url 'accounts:profile' %}")
    set_script_prefix("/p/alpha/")
    try:
        prefixed = _render("{% url 'accounts:profile' %}")
    finally:
        set_script_prefix("/")

    assert prefixed == "/p/alpha" + plain
    assert _render("{% url 'accounts:profile' %}") == plain
    # The platform host's URLs have no ticket pages.
    set_urlconf(None)
    with pytest.raises(NoReverseMatch):
        _render("{% url 'tickets:ticket-list' %}")
    set_urlconf(settings.PARTNER_URLCONF)
    assert _render("{% url 'tickets:ticket-list' %}") == reverse("tickets:ticket-list")


def test_a_name_that_does_not_reverse_raises_or_leaves_the_variable_empty(partner_urls):
    with pytest.raises(NoReverseMatch):
        _render("{% url 'tickets:no-such-view' %}")
    assert _render("{% url 'tickets:no-such-view' as link %}[{{ link }}]") == "[]"
    # An argument that cannot be a key is asked afresh.

    class Seven:
        __hash__ = None

        def __str__(self):
            return "7"

    assert _render("{% url 'tickets:ticket-detail' ticket_id=n %}", n=Seven()) == (
        "/staff/tickets/7/"
    )


@pytest.mark.django_db
def test_partner_paths_and_hosts_link_with_their_own_prefix(partner_a, partner_b):
    for slug in (partner_a.slug, partner_b.slug, partner_a.slug):
        page = Client(HTTP_HOST="localhost:8000").get(f"/p/{slug}/support/").content.decode()
        assert f'href="/p/{slug}/accounts/login/' in page
    hosted = Client(HTTP_HOST=f"{partner_a.slug}.localhost").get("/support/").content.decode()
    assert 'href="/accounts/login/' in hosted
