from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self):
        from csp_portal.accounts import demo
        from tickets.subscriptions import register_provider

        from . import demo as billing_demo
        from .ticket_subscriptions import subscription_options

        demo.register(billing_demo.seed)
        register_provider(subscription_options)
