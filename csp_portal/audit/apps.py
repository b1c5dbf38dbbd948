from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "csp_portal.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self):
        from . import receivers

        receivers.connect()
