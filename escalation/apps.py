from django.apps import AppConfig


class EscalationConfig(AppConfig):
    name = "escalation"

    def ready(self):
        from csp_portal.accounts import demo
        from tickets.email_in import register_case_handler

        from . import demo as escalation_demo
        from .mail import file_case_email

        demo.register(escalation_demo.seed)
        register_case_handler(file_case_email)
