{
    "name": "invoicing",
    "version": "1.0.0",
    "summary": "Products, taxes, draft and posted invoices, credit notes, customer credit, PDF, Factur-X, email",
    "depends": [],
}
