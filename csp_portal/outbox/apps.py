from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "csp_portal.outbox"
    label = "outbox"
    verbose_name = "Outbox"

    def ready(self):
        from csp_portal.health import register_readiness_check

        from . import tasks  # noqa: F401 - registers outbox_publish wherever rows are handed to it
        from .services import readiness_check

        register_readiness_check("outbox", readiness_check)
