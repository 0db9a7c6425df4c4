{
    "name": "webhooks",
    "version": "1.0.0",
    "summary": "Signed HTTP notifications of documents posted, payments, refunds and done orders, via an outbox",
    "depends": ["invoicing", "payments", "field_service"],
}
