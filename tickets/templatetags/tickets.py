from django import template

from tickets.rendering import render_body

register = template.Library()


@register.filter
def message_html(message):
    """A message's body as sanitised HTML."""
    return render_body(message.body, message.body_format)
