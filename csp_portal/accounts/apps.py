from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _install_row_level_security(sender, using, **kwargs):
    from .tenancy import install_row_level_security

    install_row_level_security(using)


class AccountsConfig(AppConfig):
    name = "csp_portal.accounts"
    label = "accounts"
    verbose_name = "Partners and people"

    def ready(self):
        # Once per migrate (sender filter), after every app's tables exist.
        post_migrate.connect(_install_row_level_security, sender=self, dispatch_uid="csp-rls")
        from allauth.mfa.signals import authenticator_removed

        from .middleware import forget_enrolment

        authenticator_removed.connect(forget_enrolment, dispatch_uid="csp-staff-mfa-forget")
        from csp_portal import choices

        choices.install()
