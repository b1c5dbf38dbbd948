from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def _forget_assignees(sender, instance, **kwargs):
    from csp_portal.accounts import partner_cache

    from .selectors import ASSIGNEE_CHOICES

    partner_cache.forget_list(instance.partner_id, ASSIGNEE_CHOICES)


SHOWN_USER_FIELDS = {"full_name", "email", "is_active"}


def _forget_assignees_of_user(sender, instance, update_fields=None, **kwargs):
    from csp_portal.accounts import partner_cache
    from csp_portal.accounts.models import Membership

    from .selectors import ASSIGNEE_CHOICES

    if update_fields is not None and not SHOWN_USER_FIELDS & set(update_fields):
        return  # a sign-in's last_login, say
    # A renamed or deactivated person: the lists of the partners they work for (deliberately
    # across partners; row-level security still limits it to what the scope admits, and the
    # lists expire by themselves in partner_cache.TTL_SECONDS).
    partner_ids = (
        Membership.objects.unscoped().filter(user=instance).values_list("partner_id", flat=True)
    )
    for partner_id in partner_ids:
        partner_cache.forget_list(partner_id, ASSIGNEE_CHOICES)


def _forget_canned(sender, instance, **kwargs):
    from csp_portal.accounts import partner_cache

    from .selectors import CANNED_CHOICES

    partner_cache.forget_list(instance.partner_id, CANNED_CHOICES)


class TicketsConfig(AppConfig):
    name = "tickets"

    def ready(self):
        from csp_portal.accounts.models import Membership, User

        from .models import CannedResponse

        for signal in (post_save, post_delete):
            signal.connect(_forget_assignees, sender=Membership, dispatch_uid=f"assignees-{signal}")
            signal.connect(_forget_canned, sender=CannedResponse, dispatch_uid=f"canned-{signal}")
        post_save.connect(_forget_assignees_of_user, sender=User, dispatch_uid="assignees-user")
