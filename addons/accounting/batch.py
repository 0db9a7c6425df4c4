"""Journal entries for a batch of posted invoices (hook invoicing_invoices_posted): the same entries as
documents.invoice_posted + services.post_entry, written set-based.

Per batch: the mapping read once; the lock date checked for every date; entry numbers reserved once per year
(core.sequences.take(count=n)) and chain places once (chain.CHAIN_CODE); hashes computed in Python in chain order
with chain.canonical/chain.digest, keyed as chain.link_state says; entries inserted as drafts (the triggers refuse
lines on a posted entry), their lines bulk-inserted, then one UPDATE posts them; the invoices get their
journal_entry_id in one bulk update (core.bulk).
"""
from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal

from sqlalchemy import select, update

from core import audit, sequences
from core.bulk import insert_returning_ids, insert_rows, update_rows
from core.errors import DomainError, ValidationError
from core.extensions import db
from core.models import AuditLog, utcnow
from core.money import ZERO, round_money

from . import chain, services
from .models import Account, JournalEntry, JournalLine, ProductAccount, ProductTypeAccount, TaxAccount


class _Mapping:
    """documents.income_account / tax_account, from tables read once."""

    def __init__(self, product_ids: set[int]):
        from addons.invoicing.models import Product
        accounts = {a.id: a for a in db.session.scalars(select(Account))}
        self.accounts = accounts
        self.products = {r.product_id: accounts[r.account_id]
                         for r in db.session.execute(select(ProductAccount.product_id, ProductAccount.account_id))}
        self.types = {r.product_type: accounts[r.account_id] for r in db.session.execute(
            select(ProductTypeAccount.product_type, ProductTypeAccount.account_id))}
        self.taxes = {r.tax_id: accounts[r.account_id]
                      for r in db.session.execute(select(TaxAccount.tax_id, TaxAccount.account_id))}
        self.product_type = dict(db.session.execute(select(Product.id, Product.type)
                                                    .where(Product.id.in_(product_ids))).all()) if product_ids else {}
        self._income = self._tax = None

    def income(self, product_id: int | None) -> Account:
        if product_id is not None and product_id in self.products:
            return self.products[product_id]
        kind = self.product_type.get(product_id, "service") if product_id is not None else "service"
        mapped = self.types.get(kind) or self.types.get("service")
        if mapped is not None:
            return mapped
        if self._income is None:
            self._income = next(iter(sorted((a for a in self.accounts.values() if a.type == "income"),
                                            key=lambda a: a.code)), None)
            if self._income is None:
                raise DomainError("The chart of accounts has no income account.", code="no_income_account")
        return self._income

    def tax(self, tax_id: int | None) -> Account:
        if tax_id is not None and tax_id in self.taxes:
            return self.taxes[tax_id]
        if self._tax is None:
            by_code = [a for a in self.accounts.values() if a.code == "445710"]
            self._tax = by_code[0] if by_code else next(iter(sorted(
                (a for a in self.accounts.values() if a.type == "tax"), key=lambda a: a.code)), None)
            if self._tax is None:
                raise DomainError("The chart of accounts has no tax account.", code="no_tax_account")
        return self._tax


def _signed(account: Account, amount: Decimal, label: str, partner_id: int | None = None) -> tuple:
    amount = round_money(amount)
    return (account, partner_id, label, amount if amount > 0 else ZERO, -amount if amount < 0 else ZERO)


def _check_balanced(lines: list[tuple]) -> None:
    debit = sum((l[3] for l in lines), ZERO)
    credit = sum((l[4] for l in lines), ZERO)
    if len(lines) < 2 or debit <= 0 or debit != credit:
        raise ValidationError(f"The entry is not balanced: debit {debit} ≠ credit {credit}.", code="unbalanced")


def invoices_posted(invoices) -> None:
    """Invoice: Dr receivable total / Cr income per account / Cr VAT per tax account (as documents.invoice_posted)."""
    invoices = [i for i in invoices if i.type == "invoice"]
    if not invoices:
        return
    for on in sorted({i.invoice_date for i in invoices}):
        services.check_not_locked(on)
    mapping = _Mapping({l.product_id for i in invoices for l in i.lines if l.product_id is not None})
    receivable = services.receivable_account()
    journal = services.get_journal("INV")

    entries: list[dict] = []
    entry_lines: list[list[tuple]] = []
    for invoice in invoices:
        income: OrderedDict[int, list] = OrderedDict()
        taxes: OrderedDict[int, list] = OrderedDict()
        for line in invoice.lines:
            account = mapping.income(line.product_id)
            income.setdefault(account.id, [account, ZERO])[1] += line.amount_untaxed
            if line.amount_tax:
                tax = mapping.tax(line.tax_id)
                taxes.setdefault(tax.id, [tax, ZERO])[1] += line.amount_tax
        label = invoice.number
        lines = [_signed(receivable, invoice.amount_total, label, invoice.partner_id)]
        lines += [_signed(account, -amount, f"{label} {account.name}") for account, amount in income.values()]
        lines += [_signed(account, -amount, f"{label} {account.name}") for account, amount in taxes.values()]
        lines = [l for l in lines if l[3] or l[4]]
        _check_balanced(lines)
        entries.append({"journal_id": journal.id, "date": invoice.invoice_date, "state": "draft",
                        "ref": (invoice.number or "")[:200], "origin_type": "invoice", "origin_id": invoice.id})
        entry_lines.append(lines)

    # Numbers per journal and year, in posting order (documents are in date order already).
    by_year: dict[int, list[dict]] = {}
    for entry in entries:
        by_year.setdefault(entry["date"].year, []).append(entry)
    for year, group in sorted(by_year.items()):
        for entry, (seq, number) in zip(group, services.take_entry_numbers(journal.code, year, len(group))):
            entry.update(seq=seq, fiscal_year=year, number=number)
    # The chain: places reserved at once, hashes in order.
    index = sequences.take(chain.CHAIN_CODE, chain.CHAIN_DATE, count=len(entries))
    prev, key = chain.link_state(index)  # the whole batch comes after the anchor: one key for all
    for offset, (entry, lines) in enumerate(zip(entries, entry_lines)):
        text = chain.canonical(entry["number"], journal.code, entry["date"],
                               [(a.code, partner, label, debit, credit) for a, partner, label, debit, credit in lines])
        entry.update(chain_index=index + offset, prev_hash=prev, hash=chain.digest(prev, text, key))
        prev = entry["hash"]

    ids = insert_returning_ids(JournalEntry.__table__, entries)
    insert_rows(JournalLine.__table__, [
        {"entry_id": entry_id, "account_id": a.id, "partner_id": partner, "label": label, "debit": debit,
         "credit": credit, "posted_date": entry["date"], "due_date": invoice.due_date or entry["date"]}
        for entry_id, entry, invoice, lines in zip(ids, entries, invoices, entry_lines)
        for a, partner, label, debit, credit in lines])
    now = utcnow()
    et = JournalEntry.__table__
    db.session.execute(update(et).where(et.c.id.in_(ids)).values(state="posted", posted_at=now))
    actor = audit._actor_id()
    rows = []
    for entry_id, entry in zip(ids, entries):
        rows.append({"document_type": "journal_entry", "document_id": entry_id, "action": "created", "details": "",
                     "user_id": actor, "at": now})
        rows.append({"document_type": "journal_entry", "document_id": entry_id, "action": "posted",
                     "details": entry["number"], "user_id": actor, "at": now})
    insert_rows(AuditLog.__table__, rows)
    hook = services.hook().accounting_entry_posted
    if hook.get_hookimpls():  # listeners of single entries get ORM entries, one by one
        for entry in db.session.scalars(select(JournalEntry).where(JournalEntry.id.in_(ids))
                                        .order_by(JournalEntry.chain_index)):
            hook(entry=entry)
    from addons.invoicing.models import Invoice
    it = Invoice.__table__
    update_rows(it, [{"id": invoice.id, "journal_entry_id": entry_id} for invoice, entry_id in zip(invoices, ids)])
