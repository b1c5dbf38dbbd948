from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "csp_portal.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self):
        from . import celery_signals

        celery_signals.connect()
