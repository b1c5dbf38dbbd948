from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def _forget_entitlements(sender, instance, **kwargs):
    from csp_portal.accounts import partner_cache

    partner_cache.forget_list(instance.partner_id, "entitlements")


class EscalationConfig(AppConfig):
    name = "escalation"

    def ready(self):
        from csp_portal.accounts import demo
        from tickets.email_in import register_case_handler

        from . import demo as escalation_demo
        from .mail import file_case_email
        from .models import SupportBenefit, SupportContract

        demo.register(escalation_demo.seed)
        register_case_handler(file_case_email)
        # The ticket page shows the entitlements from the cache (selectors.shown_entitlements).
        for model in (SupportContract, SupportBenefit):
            for signal in (post_save, post_delete):
                signal.connect(
                    _forget_entitlements,
                    sender=model,
                    dispatch_uid=f"entitlements-{model.__name__}-{id(signal)}",
                )
