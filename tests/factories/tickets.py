"""factory-boy factories for tickets, messages, attachments and canned responses."""

import factory
from django.core.files.base import ContentFile

from tests.factories import CustomerFactory
from tickets.models import CannedResponse, Ticket, TicketAttachment, TicketMessage
from tickets.services import ticket_number_allocate


class TicketFactory(factory.django.DjangoModelFactory):
    """A ticket numbered by the partner's counter, as the services number them."""

    class Meta:
        model = Ticket

    customer = factory.SubFactory(CustomerFactory)
    partner = factory.SelfAttribute("customer.partner")
    kind = Ticket.Kind.TECHNICAL
    product = Ticket.Product.MICROSOFT_365
    subject = factory.Sequence(lambda n: f"Outlook will not sync {n}")
    number = 0
    reference = ""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        number, reference = ticket_number_allocate(partner=kwargs["partner"])
        kwargs.update(number=number, reference=reference)
        return super()._create(model_class, *args, **kwargs)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketMessage

    ticket = factory.SubFactory(TicketFactory)
    partner = factory.SelfAttribute("ticket.partner")
    author = factory.SelfAttribute("ticket.requester")
    body = factory.Sequence(lambda n: f"Message number {n}")
    is_public = True


class AttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketAttachment

    message = factory.SubFactory(MessageFactory)
    ticket = factory.SelfAttribute("message.ticket")
    partner = factory.SelfAttribute("message.partner")
    file = factory.LazyFunction(lambda: ContentFile(b"%PDF-1.4 test\n", name="report.pdf"))
    original_name = "report.pdf"
    content_type = "application/pdf"
    size = 14


class CannedResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CannedResponse

    partner = factory.SubFactory("tests.factories.PartnerFactory")
    title = factory.Sequence(lambda n: f"Greeting {n}")
    body = "Hello {{ requester.name }}, thank you for contacting {{ partner.display_name }}."
