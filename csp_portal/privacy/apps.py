from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "csp_portal.privacy"
    label = "privacy"
    verbose_name = "Privacy requests"
