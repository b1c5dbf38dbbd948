from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self):
        from csp_portal.accounts import demo

        from . import demo as billing_demo

        demo.register(billing_demo.seed)
