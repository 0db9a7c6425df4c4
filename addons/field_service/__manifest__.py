{
    "name": "field_service",
    "version": "1.0.0",
    "summary": "Service orders: scheduling, technicians' hours and parts, intervention reports, order to invoice",
    "depends": ["invoicing"],
}
