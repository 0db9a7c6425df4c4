"""Every posted document against its journal entry, and its balance against what settled it (``ledger verify``).

The hash chain proves the entries were not changed; it says nothing of the documents, which live in other addons'
tables. Someone with the database could set an invoice paid (``amount_due = 0, payment_state = 'paid'``) with no
payment, or change its total, and the books would disagree with the invoice the customer is shown. These checks
read, never write, invoicing's and payments' tables:

- posted invoices and credit notes: one posted entry (journal INV / CN, the document's date), whose receivable line
  (one, on a receivable account, the document's customer) is the total, whose income lines (income accounts or
  accounts the product mapping names) sum to the untaxed amount and tax lines (tax accounts or mapped) to the tax,
  and no line on any other account; a credit note the same, signs reversed;
- payments (inbound) and refunds (outbound): one posted entry in the method's journal, on the payment's date, the
  receivable line the amount for the payment's customer, the journal's bank or cash account the other side;
- balances: an invoice's paid and credited amounts are the sums of its settlements, its payment settlements the
  sum of the payments' allocations to it, its amount due and payment state what those give (invoicing.services:
  due = max(0, total - paid - credited)); a credit note's credited amount is what its settlement and its credit's
  uses took; an inbound payment's unallocated amount is what its allocations left.

Set-based: one aggregate query per kind (a GROUP BY over the lines, joined to the documents), returning only the
documents that disagree, so 100,000 documents cost one pass over their lines, not 100,000 queries.
Documents posted before accounting was installed have no entry, and are not asked for one.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text

from core.extensions import db

SHOWN = 100  # problems listed; all are counted

# Account roles: what a document's line may be booked to.
_ROLES = """
roles AS (
    SELECT a.id AS account_id,
           CASE WHEN a.type = 'receivable' THEN 'receivable'
                WHEN a.type = 'tax' OR a.id IN (SELECT account_id FROM accounting_tax_accounts) THEN 'tax'
                WHEN a.type = 'income'
                     OR a.id IN (SELECT account_id FROM accounting_product_type_accounts)
                     OR a.id IN (SELECT account_id FROM accounting_product_accounts) THEN 'income'
                ELSE a.type END AS role
    FROM accounting_accounts a
)"""

_SINCE = "(SELECT installed_at FROM core_addons WHERE name = 'accounting')"

_INVOICES = text(f"""
WITH {_ROLES},
e AS (
    SELECT en.id AS entry_id, en.origin_type, en.origin_id, en.date AS entry_date, j.code AS journal,
           SUM(CASE WHEN r.role = 'receivable' THEN l.debit - l.credit ELSE 0 END) AS receivable,
           SUM(CASE WHEN r.role = 'receivable' THEN 1 ELSE 0 END) AS receivable_lines,
           MIN(CASE WHEN r.role = 'receivable' THEN l.partner_id END) AS partner_min,
           MAX(CASE WHEN r.role = 'receivable' THEN l.partner_id END) AS partner_max,
           SUM(CASE WHEN r.role = 'receivable' AND l.partner_id IS NULL THEN 1 ELSE 0 END) AS no_partner,
           SUM(CASE WHEN r.role = 'income' THEN l.credit - l.debit ELSE 0 END) AS income,
           SUM(CASE WHEN r.role = 'tax' THEN l.credit - l.debit ELSE 0 END) AS tax,
           SUM(CASE WHEN r.role NOT IN ('receivable', 'income', 'tax') THEN 1 ELSE 0 END) AS other_lines
    FROM accounting_entries en
    JOIN accounting_journals j ON j.id = en.journal_id
    JOIN accounting_lines l ON l.entry_id = en.id
    JOIN roles r ON r.account_id = l.account_id
    WHERE en.state = 'posted' AND en.origin_type IN ('invoice', 'credit_note')
    GROUP BY en.id, en.origin_type, en.origin_id, en.date, j.code
),
d AS (
    SELECT i.id, i.type, i.number, i.partner_id, i.invoice_date, i.journal_entry_id, i.posted_at,
           CASE WHEN i.type = 'credit_note' THEN -1 ELSE 1 END AS sign,
           i.amount_total, i.amount_untaxed, i.amount_tax,
           e.entry_id, e.entry_date, e.journal, e.receivable, e.receivable_lines, e.partner_min, e.partner_max,
           e.no_partner, e.income, e.tax, e.other_lines
    FROM invoicing_invoices i
    LEFT JOIN e ON e.origin_type = i.type AND e.origin_id = i.id
    WHERE i.state = 'posted'
)
SELECT id, type, number, amount_total, amount_untaxed, amount_tax, receivable, income, tax,
       CASE WHEN entry_id IS NULL THEN 1 ELSE 0 END AS no_entry,
       CASE WHEN journal_entry_id IS NOT NULL AND journal_entry_id <> entry_id THEN 1 ELSE 0 END AS other_entry,
       CASE WHEN entry_date <> invoice_date THEN 1 ELSE 0 END AS bad_date,
       CASE WHEN journal <> (CASE WHEN type = 'credit_note' THEN 'CN' ELSE 'INV' END) THEN 1 ELSE 0 END AS bad_journal,
       CASE WHEN ROUND(receivable - sign * amount_total, 2) <> 0 THEN 1 ELSE 0 END AS bad_total,
       CASE WHEN ROUND(income - sign * amount_untaxed, 2) <> 0 THEN 1 ELSE 0 END AS bad_untaxed,
       CASE WHEN ROUND(tax - sign * amount_tax, 2) <> 0 THEN 1 ELSE 0 END AS bad_tax,
       CASE WHEN receivable_lines <> 1 OR no_partner > 0 OR partner_min <> partner_id OR partner_max <> partner_id
            THEN 1 ELSE 0 END AS bad_partner,
       other_lines
FROM d
WHERE (entry_id IS NULL AND (posted_at IS NULL OR {_SINCE} IS NULL OR posted_at >= {_SINCE}))
   OR (entry_id IS NOT NULL AND (
       (journal_entry_id IS NOT NULL AND journal_entry_id <> entry_id) OR entry_date <> invoice_date
       OR journal <> (CASE WHEN type = 'credit_note' THEN 'CN' ELSE 'INV' END)
       OR ROUND(receivable - sign * amount_total, 2) <> 0 OR ROUND(income - sign * amount_untaxed, 2) <> 0
       OR ROUND(tax - sign * amount_tax, 2) <> 0
       OR receivable_lines <> 1 OR no_partner > 0 OR partner_min <> partner_id OR partner_max <> partner_id
       OR other_lines > 0))
ORDER BY id
""")

_PAYMENTS = text(f"""
WITH e AS (
    SELECT en.id AS entry_id, en.origin_id, en.date AS entry_date, j.code AS journal,
           SUM(CASE WHEN a.type = 'receivable' THEN l.credit - l.debit ELSE 0 END) AS receivable,
           SUM(CASE WHEN a.type = 'receivable' THEN 1 ELSE 0 END) AS receivable_lines,
           MIN(CASE WHEN a.type = 'receivable' THEN l.partner_id END) AS partner_min,
           MAX(CASE WHEN a.type = 'receivable' THEN l.partner_id END) AS partner_max,
           SUM(CASE WHEN a.type = 'receivable' AND l.partner_id IS NULL THEN 1 ELSE 0 END) AS no_partner,
           SUM(CASE WHEN l.account_id = j.account_id THEN l.debit - l.credit ELSE 0 END) AS money,
           SUM(CASE WHEN a.type <> 'receivable' AND (j.account_id IS NULL OR l.account_id <> j.account_id)
                    THEN 1 ELSE 0 END) AS other_lines
    FROM accounting_entries en
    JOIN accounting_journals j ON j.id = en.journal_id
    JOIN accounting_lines l ON l.entry_id = en.id
    JOIN accounting_accounts a ON a.id = l.account_id
    WHERE en.state = 'posted' AND en.origin_type = 'payment'
    GROUP BY en.id, en.origin_id, en.date, j.code
),
d AS (
    SELECT p.id, p.direction, p.reference, p.amount, p.partner_id, p.date, p.created_at, p.journal_entry_id,
           CASE WHEN p.direction = 'outbound' THEN -1 ELSE 1 END AS sign,
           COALESCE(m.journal_code, 'BNK') AS method_journal,
           e.entry_id, e.entry_date, e.journal, e.receivable, e.receivable_lines, e.partner_min, e.partner_max,
           e.no_partner, e.money, e.other_lines
    FROM payments_payments p
    LEFT JOIN payments_methods m ON m.code = p.method_code
    LEFT JOIN e ON e.origin_id = p.id
)
SELECT id, direction, reference, amount, receivable, money,
       CASE WHEN entry_id IS NULL THEN 1 ELSE 0 END AS no_entry,
       CASE WHEN journal_entry_id IS NOT NULL AND journal_entry_id <> entry_id THEN 1 ELSE 0 END AS other_entry,
       CASE WHEN entry_date <> date THEN 1 ELSE 0 END AS bad_date,
       CASE WHEN journal <> method_journal THEN 1 ELSE 0 END AS bad_journal,
       CASE WHEN ROUND(receivable - sign * amount, 2) <> 0 OR ROUND(money - sign * amount, 2) <> 0
            THEN 1 ELSE 0 END AS bad_amount,
       CASE WHEN receivable_lines <> 1 OR no_partner > 0 OR partner_min <> partner_id OR partner_max <> partner_id
            THEN 1 ELSE 0 END AS bad_partner,
       other_lines
FROM d
WHERE (entry_id IS NULL AND ({_SINCE} IS NULL OR created_at >= {_SINCE}))
   OR (entry_id IS NOT NULL AND (
       (journal_entry_id IS NOT NULL AND journal_entry_id <> entry_id) OR entry_date <> date
       OR journal <> method_journal
       OR ROUND(receivable - sign * amount, 2) <> 0 OR ROUND(money - sign * amount, 2) <> 0
       OR receivable_lines <> 1 OR no_partner > 0 OR partner_min <> partner_id OR partner_max <> partner_id
       OR other_lines > 0))
ORDER BY id
""")

# Entries of documents that are not there (deleted, or back to draft), or several entries for one document.
_ORPHANS = text("""
SELECT en.origin_type, en.origin_id, MIN(en.number) AS number, COUNT(*) AS entries
FROM accounting_entries en
LEFT JOIN invoicing_invoices i ON en.origin_type IN ('invoice', 'credit_note') AND i.id = en.origin_id
                               AND i.type = en.origin_type AND i.state = 'posted'
LEFT JOIN payments_payments p ON en.origin_type = 'payment' AND p.id = en.origin_id
WHERE en.state = 'posted' AND en.origin_type IN ('invoice', 'credit_note', 'payment')
GROUP BY en.origin_type, en.origin_id
HAVING COUNT(*) > 1 OR (MAX(i.id) IS NULL AND MAX(p.id) IS NULL)
ORDER BY en.origin_type, en.origin_id
""")

_BALANCES = text("""
WITH s AS (
    SELECT invoice_id,
           SUM(CASE WHEN kind = 'credit_note' THEN amount ELSE 0 END) AS credited,
           SUM(CASE WHEN kind IN ('payment', 'credit') THEN amount ELSE 0 END) AS paid,
           SUM(CASE WHEN kind = 'payment' THEN amount ELSE 0 END) AS by_payments
    FROM invoicing_settlements GROUP BY invoice_id
),
a AS (SELECT invoice_id, SUM(amount) AS allocated FROM payments_allocations GROUP BY invoice_id),
cn AS (
    SELECT source_id AS invoice_id, SUM(amount) AS used FROM invoicing_settlements
    WHERE source_type = 'credit_note' AND kind = 'credit_note' GROUP BY source_id
),
cu AS (
    SELECT c.source_id AS invoice_id, SUM(u.amount) AS used
    FROM invoicing_customer_credits c JOIN invoicing_credit_uses u ON u.credit_id = c.id
    WHERE c.source_type = 'credit_note' GROUP BY c.source_id
),
x AS (
    SELECT i.id, i.type, i.number, i.amount_total, i.amount_paid, i.amount_credited, i.amount_due, i.payment_state,
           CASE WHEN i.type = 'invoice' THEN COALESCE(s.paid, 0) ELSE 0 END AS paid,
           CASE WHEN i.type = 'invoice' THEN COALESCE(s.credited, 0)
                ELSE COALESCE(cn.used, 0) + COALESCE(cu.used, 0) END AS credited,
           COALESCE(s.by_payments, 0) AS by_payments, COALESCE(a.allocated, 0) AS allocated
    FROM invoicing_invoices i
    LEFT JOIN s ON s.invoice_id = i.id
    LEFT JOIN a ON a.invoice_id = i.id
    LEFT JOIN cn ON cn.invoice_id = i.id
    LEFT JOIN cu ON cu.invoice_id = i.id
    WHERE i.state = 'posted'
),
y AS (
    -- rounded to the cent before any comparison: SQLite sums money as floats (0.1 + 0.2 - 0.3 is not 0 there)
    SELECT x.*, CASE WHEN ROUND(amount_total - paid - credited, 2) > 0 THEN ROUND(amount_total - paid - credited, 2)
                     ELSE 0 END AS due
    FROM x
),
z AS (
    SELECT y.*, CASE WHEN due <= 0 AND amount_total > 0
                     THEN (CASE WHEN ROUND(paid, 2) > 0 THEN 'paid' ELSE 'credited' END)
                     WHEN due < amount_total THEN 'partial' ELSE 'not_paid' END AS state
    FROM y
)
SELECT id, type, number, amount_paid, paid, amount_credited, credited, amount_due, due, payment_state, state,
       by_payments, allocated
FROM z
WHERE ROUND(amount_paid - paid, 2) <> 0 OR ROUND(amount_credited - credited, 2) <> 0
   OR ROUND(amount_due - due, 2) <> 0 OR payment_state <> state OR ROUND(by_payments - allocated, 2) <> 0
ORDER BY id
""")

_UNALLOCATED = text("""
SELECT p.id, p.reference, p.amount, p.unallocated, COALESCE(SUM(a.amount), 0) AS allocated
FROM payments_payments p LEFT JOIN payments_allocations a ON a.payment_id = p.id
WHERE p.direction = 'inbound'
GROUP BY p.id, p.reference, p.amount, p.unallocated
HAVING ROUND(p.amount - COALESCE(SUM(a.amount), 0) - p.unallocated, 2) <> 0
ORDER BY p.id
""")

_COUNTS = text("SELECT (SELECT COUNT(*) FROM invoicing_invoices WHERE state = 'posted') + "
               "(SELECT COUNT(*) FROM payments_payments)")


def _invoice_reasons(row) -> list[str]:
    if row.no_entry:
        return ["it is posted but has no journal entry"]
    out = []
    if row.other_entry:
        out.append("it names another journal entry than the one booked for it")
    if row.bad_date:
        out.append("its date differs from its entry's")
    if row.bad_journal:
        out.append("its entry is in the wrong journal")
    sign = -1 if row.type == "credit_note" else 1
    if row.bad_total:
        out.append(f"its total {_money(row.amount_total)} differs from its entry's receivable "
                   f"{sign * _money(row.receivable)}")
    if row.bad_untaxed:
        out.append(f"its untaxed amount {_money(row.amount_untaxed)} differs from its entry's income "
                   f"{sign * _money(row.income)}")
    if row.bad_tax:
        out.append(f"its tax {_money(row.amount_tax)} differs from its entry's tax {sign * _money(row.tax)}")
    if row.bad_partner:
        out.append("its entry's receivable line is not one line for its customer")
    if row.other_lines:
        out.append("its entry has lines on accounts that are neither receivable, income nor tax")
    return out


def _payment_reasons(row) -> list[str]:
    if row.no_entry:
        return ["it has no journal entry"]
    out = []
    if row.other_entry:
        out.append("it names another journal entry than the one booked for it")
    if row.bad_date:
        out.append("its date differs from its entry's")
    if row.bad_journal:
        out.append("its entry is not in its method's journal")
    if row.bad_amount:
        out.append(f"its amount {_money(row.amount)} differs from its entry's (receivable {_money(row.receivable)}, "
                   f"bank or cash {_money(row.money)}; refunds the other way round)")
    if row.bad_partner:
        out.append("its entry's receivable line is not one line for its customer")
    if row.other_lines:
        out.append("its entry has lines on accounts other than the receivable and its journal's")
    return out


def _money(value) -> Decimal:
    """A SUM as the driver gives it (Decimal on PostgreSQL, int or float on SQLite), to the cent."""
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _balance_reasons(row) -> list[str]:
    out = []
    for label, stored, derived, source in (
            ("amount paid", row.amount_paid, row.paid, "its settlements give"),
            ("amount credited", row.amount_credited, row.credited, "what settled it gives"),
            ("amount due", row.amount_due, row.due, "its payments and credits give"),
            ("settled by payments", row.by_payments, row.allocated, "the payments' allocations give")):
        if _money(stored) != _money(derived):
            out.append(f"{label} {_money(stored)}, {source} {_money(derived)}")
    if row.payment_state != row.state:
        out.append(f"payment state {row.payment_state}, its payments and credits give {row.state}")
    return out


def verify_documents() -> dict:
    """``{ok, documents_checked, problem_count, problems: [{document_type, document_id, number, reason}]}``
    (the first ``SHOWN`` problems, in document order)."""
    conn = db.session.connection()
    problems: list[dict] = []
    for row in conn.execute(_INVOICES):
        problems.append({"document_type": row.type, "document_id": row.id, "number": row.number,
                         "reason": "; ".join(_invoice_reasons(row))})
    for row in conn.execute(_BALANCES):
        problems.append({"document_type": row.type, "document_id": row.id, "number": row.number,
                         "reason": "; ".join(_balance_reasons(row))})
    for row in conn.execute(_PAYMENTS):
        problems.append({"document_type": "refund" if row.direction == "outbound" else "payment",
                         "document_id": row.id, "number": row.reference or None,
                         "reason": "; ".join(_payment_reasons(row))})
    for row in conn.execute(_UNALLOCATED):
        problems.append({"document_type": "payment", "document_id": row.id, "number": row.reference or None,
                         "reason": f"unallocated {_money(row.unallocated)}, its allocations leave "
                                   f"{_money(row.amount) - _money(row.allocated)}"})
    for row in conn.execute(_ORPHANS):
        reason = (f"{row.entries} posted entries are booked for it" if row.entries > 1
                  else "its posted entry has no posted document")
        problems.append({"document_type": row.origin_type, "document_id": row.origin_id, "number": row.number,
                         "reason": reason})
    return {"ok": not problems, "documents_checked": conn.scalar(_COUNTS) or 0, "problem_count": len(problems),
            "problems": problems[:SHOWN]}
