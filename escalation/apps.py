from django.apps import AppConfig


class EscalationConfig(AppConfig):
    name = "escalation"

    def ready(self):
        from csp_portal.accounts import demo

        from . import demo as escalation_demo

        demo.register(escalation_demo.seed)
