from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "csp_portal.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
