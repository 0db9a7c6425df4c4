"""Entries from documents (called by hooks.py): invoices, credit notes, payments, refunds; and the
reconciliations that keep every receivable line's open amount equal to its document's balance."""
from __future__ import annotations

from collections import OrderedDict
from datetime import date
from decimal import Decimal

from sqlalchemy import String, bindparam, cast, literal, select, union_all

from core.errors import DomainError
from core.extensions import db
from core.money import ZERO, round_money

from . import services
from .models import Account, Journal, JournalLine, ProductAccount, ProductTypeAccount, Reconciliation, TaxAccount


def _line(account, amount: Decimal, label: str, partner_id: int | None = None) -> tuple:
    """(account, partner_id, label, debit, credit) from a signed amount: positive is a debit, negative a credit."""
    amount = round_money(amount)
    return account, partner_id, label, amount if amount > 0 else ZERO, -amount if amount < 0 else ZERO


def income_account(line) -> Account:
    """Product override, else the product type's account, else the services account."""
    if line.product_id is not None:
        override = db.session.get(ProductAccount, line.product_id)
        if override is not None:
            return override.account
    product_type = line.product.type if line.product is not None else "service"
    mapped = db.session.get(ProductTypeAccount, product_type) or db.session.get(ProductTypeAccount, "service")
    if mapped is not None:
        return mapped.account
    account = db.session.scalar(select(Account).where(Account.type == "income").order_by(Account.code).limit(1))
    if account is None:
        raise DomainError("The chart of accounts has no income account.", code="no_income_account")
    return account


def tax_account(tax_id: int | None) -> Account:
    if tax_id is not None:
        mapped = db.session.get(TaxAccount, tax_id)
        if mapped is not None:
            return mapped.account
    account = services.get_account("445710", required=False) or db.session.scalar(
        select(Account).where(Account.type == "tax").order_by(Account.code).limit(1))
    if account is None:
        raise DomainError("The chart of accounts has no tax account.", code="no_tax_account")
    return account


def _post(on: date, lines: list[tuple], journal, ref: str, origin: tuple[str, int]) -> int:
    """The document's entry, posted (services.write_posted_entry); lines of zero are left out. Returns its id."""
    return services.write_posted_entry(on, journal, [l for l in lines if l[3] or l[4]], ref, origin)


RECEIVABLE_CODE, TAX_CODE = "411000", "445710"  # services.receivable_account, tax_account's default


def _build_accounts_of():
    keys = union_all(
        select(literal("product").label("kind"), cast(ProductAccount.product_id, String).label("key"),
               ProductAccount.account_id.label("account_id"))
        .where(ProductAccount.product_id.in_(bindparam("product_ids", expanding=True))),
        select(literal("type"), ProductTypeAccount.product_type, ProductTypeAccount.account_id)
        .where(ProductTypeAccount.product_type.in_(bindparam("types", expanding=True))),
        select(literal("tax"), cast(TaxAccount.tax_id, String), TaxAccount.account_id)
        .where(TaxAccount.tax_id.in_(bindparam("tax_ids", expanding=True))),
        select(literal("code"), Account.code, Account.id).where(Account.code.in_((RECEIVABLE_CODE, TAX_CODE))),
    ).subquery()
    accounts, journals = Account.__table__, Journal.__table__  # plain rows: id, code and name are all we use
    return union_all(
        select(keys.c.kind, keys.c.key, accounts.c.id, accounts.c.code, accounts.c.name)
        .join(accounts, accounts.c.id == keys.c.account_id),
        select(literal("journal"), journals.c.code, journals.c.id, journals.c.code, journals.c.name)
        .where(journals.c.code == bindparam("journal")))


_ACCOUNTS_OF = _build_accounts_of()  # built once: building this union each posting cost as much as running it


def _accounts_of(lines, journal: str) -> dict[tuple[str, str], object]:
    """The accounts an invoice's lines may book to, and its journal, in one statement: ``{(kind, key): row}``
    (rows with ``id``, ``code``, ``name``) with kind ``product`` (override per product id), ``type`` (per product
    type, ``service`` always asked), ``tax`` (per tax id), ``code`` (the receivable and default VAT accounts) and
    ``journal`` (by code). A mapping that is not there is not in the dict: income_account / tax_account /
    services.receivable_account / services.get_journal then decide exactly as they do alone."""
    rows = db.session.execute(_ACCOUNTS_OF, {
        "product_ids": sorted({l.product_id for l in lines if l.product_id is not None}),
        "types": sorted({l.product.type for l in lines if l.product is not None} | {"service"}),
        "tax_ids": sorted({l.tax_id for l in lines if l.tax_id is not None and l.amount_tax}),
        "journal": journal})
    return {(row[0], row[1]): row for row in rows}


def invoice_posted(invoice) -> int:
    """Invoice: Dr receivable total / Cr income per account / Cr VAT per tax account. Credit note: the reverse."""
    sign = Decimal(-1) if invoice.type == "credit_note" else Decimal(1)
    income: OrderedDict[int, list] = OrderedDict()
    taxes: OrderedDict[int, list] = OrderedDict()
    # Every mapping the lines need in one statement (one per product, type and tax was 6 statements for a 2-line
    # invoice); what is not mapped falls back to the one-at-a-time functions, which look further.
    journal_code = "CN" if invoice.type == "credit_note" else "INV"
    known = _accounts_of(invoice.lines, journal_code)
    income_of: dict[tuple, object] = {}
    tax_of: dict[int | None, object] = {}
    for line in invoice.lines:
        key = (line.product_id, line.product.type if line.product is not None else None)
        if key not in income_of:
            income_of[key] = (known.get(("product", str(line.product_id))) or known.get(("type", key[1] or "service"))
                              or known.get(("type", "service")) or income_account(line))
        account = income_of[key]
        income.setdefault(account.id, [account, ZERO])[1] += line.amount_untaxed
        if line.amount_tax:
            if line.tax_id not in tax_of:
                tax_of[line.tax_id] = (known.get(("tax", str(line.tax_id))) or known.get(("code", TAX_CODE))
                                       or tax_account(line.tax_id))
            tax = tax_of[line.tax_id]
            taxes.setdefault(tax.id, [tax, ZERO])[1] += line.amount_tax
    label = invoice.number
    receivable = known.get(("code", RECEIVABLE_CODE)) or services.receivable_account()
    lines = [_line(receivable, sign * invoice.amount_total, label, invoice.partner_id)]
    lines += [_line(account, -sign * amount, f"{label} {account.name}") for account, amount in income.values()]
    lines += [_line(account, -sign * amount, f"{label} {account.name}") for account, amount in taxes.values()]
    journal = known.get(("journal", journal_code)) or services.get_journal(journal_code)
    _lock_what_the_posting_settles(invoice)
    entry_id = _post(invoice.invoice_date, lines, journal, invoice.number, (invoice.type, invoice.id))
    invoice.journal_entry_id = entry_id
    return entry_id


def _lock_what_the_posting_settles(invoice) -> None:
    """Lock the invoice a credit note settles BEFORE the ledger's chain lock, as a payment does: documents first,
    the chain last, so a payment and a credit note on the same invoice cannot deadlock."""
    from addons.invoicing import services as invoicing
    if invoice.credited_invoice_id is not None:
        invoicing.get_invoice(invoice.credited_invoice_id, lock=True)


def _money_journal(payment) -> Journal:
    """The journal of the payment's method (payments.models.PaymentMethod.journal_code): BNK or CSH."""
    method = getattr(payment, "method", None)
    if method is None and getattr(payment, "method_code", None):
        from addons.payments.models import PaymentMethod
        method = db.session.get(PaymentMethod, payment.method_code)
    code = (method.journal_code if method is not None else None) or "BNK"
    journal = services.get_journal(code, field="method")
    if journal.account is None:
        raise DomainError(f"Journal {journal.code} has no bank or cash account; set it on the accounting mapping "
                          "page.", code="journal_without_account")
    return journal


def payment_registered(payment) -> int:
    """Dr bank or cash (the method's journal) / Cr receivable."""
    journal = _money_journal(payment)
    label = f"Payment {payment.reference or payment.id}"
    lines = [_line(journal.account, payment.amount, label),
             _line(services.receivable_account(), -payment.amount, label, payment.partner_id)]
    entry_id = _post(payment.date, lines, journal, payment.reference or f"Payment {payment.id}",
                     ("payment", payment.id))
    payment.journal_entry_id = entry_id
    return entry_id


def refund_made(payment) -> int:
    """Dr receivable / Cr bank or cash: credit paid back to the customer."""
    journal = _money_journal(payment)
    label = f"Refund {payment.reference or payment.id}"
    lines = [_line(services.receivable_account(), payment.amount, label, payment.partner_id),
             _line(journal.account, -payment.amount, label)]
    entry_id = _post(payment.date, lines, journal, payment.reference or f"Refund {payment.id}",
                     ("payment", payment.id))
    payment.journal_entry_id = entry_id
    return entry_id


def _match(debit_line: JournalLine | None, credit_line: JournalLine | None, amount: Decimal, on: date) -> None:
    if debit_line is None or credit_line is None or amount <= 0:
        return  # documents from before accounting was installed have no lines to match
    if debit_line.debit <= 0 or credit_line.credit <= 0:
        debit_line, credit_line = credit_line, debit_line
    db.session.add(Reconciliation(debit_line_id=debit_line.id, credit_line_id=credit_line.id,
                                  amount=round_money(amount), date=on))
    db.session.flush()


def invoice_settled(invoice, settlement) -> None:
    """Match the invoice's receivable line with the source document's (payment or credit note)."""
    _match(services.receivable_line("invoice", invoice.id),
           services.receivable_line(settlement.source_type, settlement.source_id),
           settlement.amount, settlement.date)


def credit_refunded(credit, amount, refund_type: str, refund_id: int) -> None:
    """Match the refund's receivable line (a debit) with the credit's source line (credit note or payment)."""
    refund_line = services.receivable_line(refund_type, refund_id)
    source_line = services.receivable_line(credit.source_type, credit.source_id)
    on = date.today()
    if refund_line is not None:
        on = refund_line.entry.date
    _match(refund_line, source_line, amount, on)
