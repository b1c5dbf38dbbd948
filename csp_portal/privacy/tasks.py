"""Building customer data exports, after commit, in a worker."""

import logging

from celery import shared_task
from django.db import transaction

from csp_portal.accounts.models import Partner
from csp_portal.accounts.tenancy import partner_scope

from . import services
from .models import DataExport

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, max_retries=5)
def build_customer_export(*, partner_id: int, export_id: int) -> None:
    with partner_scope(partner_id):
        partner = Partner.objects.get(pk=partner_id)
        export = (
            DataExport.objects.for_partner(partner)
            .select_related("customer")
            .filter(pk=export_id, status=DataExport.Status.PENDING)
            .first()
        )
        if export is None:  # already built, or gone
            return
        try:
            with transaction.atomic():
                services.export_build(partner=partner, export=export)
        except OSError:
            raise  # storage trouble: retried with backoff
        except Exception as error:
            logger.exception("customer export %s failed", export_id)
            services.export_fail(export=export, error=error)
