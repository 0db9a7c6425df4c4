{
    "name": "accounting",
    "version": "1.0.0",
    "summary": "The ledger: chart of accounts, journals, entries from documents, reconciliation, hash chain, "
               "lock date, reports, FEC export",
    "depends": ["invoicing", "payments"],
}
