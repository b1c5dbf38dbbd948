from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "csp_portal.api"
    label = "api"
    verbose_name = "Public API"

    def ready(self):
        from . import schema  # noqa: F401  (registers the OpenAPI extension)
