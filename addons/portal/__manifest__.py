{
    "name": "portal",
    "version": "1.0.0",
    "summary": "Customer portal: customers see their invoices, credit and balance, apply their credit; signed links",
    "depends": ["invoicing", "payments"],
}
