{
    "name": "payments",
    "version": "1.0.0",
    "summary": "Payments received and refunds: methods, partial and over-payments, several invoices, idempotent",
    "depends": ["invoicing"],
}
