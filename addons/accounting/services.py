"""Accounting rules: the chart and its mapping, the lock date, journal entries (draft, post, reverse).

Entries from documents live in documents.py, the hash chain in chain.py, reports in reports.py. Every function
flushes and never commits.
"""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from flask import current_app
from sqlalchemy import bindparam, func, select

from core import audit, sequences
from core.errors import DomainError, InvalidTransition, NotFound, PeriodLocked, ValidationError
from core.extensions import db
from core.models import Partner, company, utcnow
from core.money import ZERO, check_amount, exact_money, round_money, to_decimal

from . import chain
from .models import (ACCOUNT_TYPES, Account, Journal, JournalEntry, JournalLine, ProductAccount,
                     ProductTypeAccount, Reconciliation, TaxAccount)

DATA = Path(__file__).resolve().parent / "data"


def hook():
    return current_app.extensions["kontor"].hook


# -- chart of accounts and journals ------------------------------------------------------------------------------
def load_chart() -> None:
    """The generic chart, journals and mapping (install)."""
    data = json.loads((DATA / "chart.json").read_text())
    for code, name, type_ in data["accounts"]:
        if get_account(code, required=False) is None:
            db.session.add(Account(code=code, name=name, type=type_))
    db.session.flush()
    for code, name, type_, account_code in data["journals"]:
        if db.session.scalar(select(Journal.id).where(Journal.code == code)) is None:
            account = get_account(account_code) if account_code else None
            db.session.add(Journal(code=code, name=name, type=type_, account_id=account.id if account else None))
    for product_type, code in data["product_types"].items():
        if db.session.get(ProductTypeAccount, product_type) is None:
            db.session.add(ProductTypeAccount(product_type=product_type, account_id=get_account(code).id))
    db.session.flush()


def get_account(code: str, required: bool = True, field: str = "account_code") -> Account | None:
    account = db.session.scalar(select(Account).where(Account.code == (code or "").strip()))
    if account is None and required:
        raise ValidationError(f"There is no account {code}.", fields={field: ["Unknown account."]})
    return account


def save_account(account: Account | None = None, **values) -> Account:
    """Create (account None) or change an account: code (unique digits), name, type."""
    account = account or Account()
    if "code" in values or account.id is None:
        code = (values.get("code") or "").strip()
        if not code or not code.isalnum() or len(code) > 20:
            raise ValidationError("An account code is 1 to 20 letters or digits.", fields={"code": ["Invalid."]})
        clash = db.session.scalar(select(Account.id).where(Account.code == code, Account.id != (account.id or 0)))
        if clash:
            raise ValidationError(f"Account {code} exists already.", code="duplicate_code",
                                  fields={"code": ["Already used."]})
        if account.id is not None and code != account.code and _account_used(account):
            raise DomainError(f"Account {account.code} has entries; its code cannot change.", code="account_used")
        account.code = code
    if "name" in values or account.id is None:
        name = (values.get("name") or "").strip()
        if not name:
            raise ValidationError("An account needs a name.", fields={"name": ["Required."]})
        account.name = name[:200]
    if "type" in values or account.id is None:
        if values.get("type") not in ACCOUNT_TYPES:
            raise ValidationError(f"The type is one of {', '.join(ACCOUNT_TYPES)}.", fields={"type": ["Unknown."]})
        account.type = values["type"]
    if account.id is None:
        db.session.add(account)
    db.session.flush()
    return account


def _account_used(account: Account) -> bool:
    return db.session.scalar(select(JournalLine.id).where(JournalLine.account_id == account.id).limit(1)) is not None


def get_journal(code: str, field: str = "journal") -> Journal:
    journal = db.session.scalar(select(Journal).where(Journal.code == (code or "").strip().upper()))
    if journal is None:
        raise ValidationError(f"There is no journal {code}.", fields={field: ["Unknown journal."]})
    return journal


def receivable_account() -> Account:
    account = get_account("411000", required=False) or db.session.scalar(
        select(Account).where(Account.type == "receivable").order_by(Account.code).limit(1))
    if account is None:
        raise DomainError("The chart of accounts has no receivable account.", code="no_receivable_account")
    return account


# -- mapping ---------------------------------------------------------------------------------------------------------
def set_product_type_account(product_type: str, account_code: str) -> None:
    from addons.invoicing.models import PRODUCT_TYPES
    if product_type not in PRODUCT_TYPES:
        raise ValidationError(f"Unknown product type {product_type}.", fields={"product_type": ["Unknown."]})
    account = get_account(account_code)
    row = db.session.get(ProductTypeAccount, product_type) or ProductTypeAccount(product_type=product_type)
    row.account_id = account.id
    db.session.add(row)
    db.session.flush()


def set_product_account(product_id: int, account_code: str | None) -> None:
    """Override one product's income account; an empty code removes the override."""
    from addons.invoicing.services import get_product
    get_product(product_id)
    row = db.session.get(ProductAccount, product_id)
    if not account_code:
        if row is not None:
            db.session.delete(row)
        db.session.flush()
        return
    account = get_account(account_code)
    row = row or ProductAccount(product_id=product_id)
    row.account_id = account.id
    db.session.add(row)
    db.session.flush()


def set_tax_account(tax_id: int, account_code: str) -> None:
    from addons.invoicing.services import get_tax
    get_tax(tax_id)
    account = get_account(account_code)
    row = db.session.get(TaxAccount, tax_id) or TaxAccount(tax_id=tax_id)
    row.account_id = account.id
    db.session.add(row)
    db.session.flush()


def set_journal_account(journal_code: str, account_code: str | None) -> None:
    journal = get_journal(journal_code)
    journal.account_id = get_account(account_code).id if account_code else None
    db.session.flush()


# -- lock date ---------------------------------------------------------------------------------------------------
def lock_date() -> date | None:
    return company().lock_date


def set_lock_date(value: date | None, user=None) -> date | None:
    """Bookkeepers move the lock date forward; only an admin moves it back or clears it."""
    row = company()
    if value is not None and value >= date.today():
        raise ValidationError("The lock date must be in the past.", fields={"lock_date": ["Must be before today."]})
    backwards = row.lock_date is not None and (value is None or value < row.lock_date)
    if backwards and (user is None or user.role != "admin"):
        raise DomainError(f"The books are locked up to {row.lock_date.isoformat()}; only an admin may unlock them.",
                          code="lock_date_backwards")
    row.lock_date = value
    db.session.flush()
    return value


def check_not_locked(on: date) -> None:
    locked = lock_date()
    if locked is not None and on <= locked:
        raise PeriodLocked(f"The books are locked up to {locked.isoformat()}; nothing dated {on.isoformat()} can be "
                           f"posted. Date it after {locked.isoformat()} or ask a bookkeeper to move the lock date.",
                           fields={"date": [f"On or before the lock date {locked.isoformat()}."]})


# -- entries -----------------------------------------------------------------------------------------------------
def get_entry(entry_id: int) -> JournalEntry:
    entry = db.session.get(JournalEntry, entry_id)
    if entry is None:
        raise NotFound(f"There is no journal entry {entry_id}.")
    return entry


def _money(value, field: str) -> Decimal:
    if value is None or value == "":
        return ZERO
    if isinstance(value, float):
        raise ValidationError(f"{field} must be a decimal string.", fields={field: ["Not a number."]})
    try:
        amount = to_decimal(value)
    except ValueError:
        raise ValidationError(f"{field.capitalize()} must be a number.", fields={field: ["Not a number."]}) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError(f"{field.capitalize()} must be zero or more.", fields={field: ["Out of range."]})
    check_amount(amount, field, field.capitalize())
    return exact_money(amount, field, company().currency)


def build_lines(lines: list[dict]) -> list[JournalLine]:
    """Manual lines: {account_code, partner_id, label, debit, credit}; one side per line."""
    if not lines or len(lines) < 2:
        raise ValidationError("An entry needs at least two lines.", fields={"lines": ["At least two lines."]})
    built = []
    for n, item in enumerate(lines, start=1):
        account = get_account(item.get("account_code") or "", field="lines")
        debit, credit = _money(item.get("debit"), "debit"), _money(item.get("credit"), "credit")
        if (debit > 0) == (credit > 0):
            raise ValidationError(f"Line {n}: give a debit or a credit (one of them, more than zero).",
                                  fields={"lines": [f"Line {n}: a debit or a credit."]})
        partner_id = item.get("partner_id")
        if partner_id is not None and db.session.get(Partner, partner_id) is None:
            raise ValidationError(f"Line {n}: there is no customer {partner_id}.",
                                  fields={"lines": [f"Line {n}: unknown customer."]})
        built.append(JournalLine(account_id=account.id, account=account, partner_id=partner_id,
                                 label=(item.get("label") or "").strip()[:500], debit=debit, credit=credit))
    return built


def create_entry(on: date, lines: list[dict] | list[JournalLine], journal: str = "GEN", ref: str = "",
                 origin: tuple[str, int] | None = None) -> JournalEntry:
    """A draft entry (lines as dicts for manual entries, or JournalLine objects built by documents.py)."""
    if on is None:
        raise ValidationError("An entry needs a date.", fields={"date": ["Required."]})
    built = lines if lines and isinstance(lines[0], JournalLine) else build_lines(lines)  # type: ignore[arg-type]
    entry = JournalEntry(journal=get_journal(journal), date=on, ref=(ref or "").strip()[:200], state="draft",
                         origin_type=origin[0] if origin else None, origin_id=origin[1] if origin else None)
    entry.lines = list(built)
    db.session.add(entry)
    db.session.flush()
    audit.record(entry, "created")
    return entry


def check_balanced(entry: JournalEntry) -> None:
    check_balanced_lines([(l.debit, l.credit) for l in entry.lines])


def check_balanced_lines(lines: list[tuple[Decimal, Decimal]]) -> None:
    """The balance rule on (debit, credit) pairs: at least two lines, one side each, never negative, equal sums."""
    debit, credit = sum((d for d, _ in lines), ZERO), sum((c for _, c in lines), ZERO)
    if len(lines) < 2 or debit <= 0:
        raise ValidationError("An entry needs at least two lines and an amount.", code="empty_entry",
                              fields={"lines": ["At least two lines."]})
    if any(d < 0 or c < 0 or (d > 0 and c > 0) for d, c in lines):
        raise ValidationError("Each line has a debit or a credit, never negative.", code="bad_line",
                              fields={"lines": ["One side per line."]})
    if debit != credit:
        raise ValidationError(f"The entry is not balanced: debit {debit} ≠ credit {credit}. Fix the lines, "
                              "then post.", code="unbalanced", fields={"lines": [f"Debit {debit}, credit {credit}."]})


def take_entry_numbers(journal_code: str, year: int, count: int = 1) -> list[tuple[int, str]]:
    """``count`` consecutive (seq, number) of the journal's gapless series of ``year`` (the sequence row locked):
    posting one entry, a document's entry and the batch all number from here."""
    first = sequences.take(f"accounting.{journal_code}", date(year, 1, 1), count=count)
    return [(seq, sequences.format_number(journal_code, year, seq)) for seq in range(first, first + count)]


def post_entry(entry: JournalEntry) -> JournalEntry:
    """Draft -> posted: balanced, not in a locked period; its number (journal, year) and its place in the chain."""
    if entry.state != "draft":
        raise InvalidTransition(f"Entry {entry.number} is already posted; reverse it to correct it.",
                                code="already_posted")
    check_balanced(entry)
    check_not_locked(entry.date)
    code = entry.journal.code
    # Gapless per journal and year (numbers follow posting order; documents are already chronological).
    [(seq, entry.number)] = take_entry_numbers(code, entry.date.year)
    entry.fiscal_year = entry.date.year
    entry.seq = seq
    due = line_due_date(entry.origin_type, entry.origin_id, entry.date)
    stale = [line for line in entry.lines if (line.posted_date, line.due_date) != (entry.date, due)]
    for line in stale:  # the reports' copy (models.JournalLine), written while the entry is still a draft
        line.posted_date, line.due_date = entry.date, due
    if stale:
        db.session.flush()
    chain.seal(entry)  # the number, the chain place and the state go to the database in one UPDATE below
    entry.state = "posted"
    entry.posted_at = utcnow()
    db.session.flush()
    audit.record(entry, "posted", entry.number)
    hook().accounting_entry_posted(entry=entry)
    return entry


_ENTRIES, _LINES = JournalEntry.__table__, JournalLine.__table__
# Built once (building a statement costs about what running it does).
_INSERT_ENTRY = _ENTRIES.insert().returning(_ENTRIES.c.id)
_INSERT_LINES = _LINES.insert()
_MARK_POSTED = (_ENTRIES.update().where(_ENTRIES.c.id == bindparam("entry_id"))
                .values(state="posted", posted_at=bindparam("entry_posted_at")))


def write_posted_entry(on: date, journal, lines: list[tuple], ref: str, origin: tuple[str, int]) -> int:
    """A document's entry, posted, written with Core statements: what create_entry + post_entry do (the balance
    and lock-date checks, the number, the chain link, the audit rows, accounting_entry_posted), without building
    ORM objects or flushing them twice. Returns the entry's id.

    ``journal`` has ``id`` and ``code``; ``lines`` are (account, partner_id, label, debit, credit) with the account's
    ``id`` and ``code``, in the order they are written (their ids, hence the hash, follow it). The entry goes in as
    a draft, its lines after it, then it is posted: the database refuses lines on a posted entry."""
    check_balanced_lines([(l[3], l[4]) for l in lines])
    check_not_locked(on)
    [(seq, number)] = take_entry_numbers(journal.code, on.year)
    index, prev, digest = chain.link(number, journal.code, on,
                                     [(account.code, partner_id, label, debit, credit)
                                      for account, partner_id, label, debit, credit in lines])
    entry_id = db.session.execute(_INSERT_ENTRY, {
        "journal_id": journal.id, "date": on, "state": "draft", "ref": (ref or "").strip()[:200],
        "origin_type": origin[0], "origin_id": origin[1], "number": number, "fiscal_year": on.year, "seq": seq,
        "chain_index": index, "prev_hash": prev, "hash": digest}).scalar_one()
    due = line_due_date(*origin, on)
    db.session.execute(_INSERT_LINES, [
        {"entry_id": entry_id, "account_id": account.id, "partner_id": partner_id, "label": label, "debit": debit,
         "credit": credit, "posted_date": on, "due_date": due} for account, partner_id, label, debit, credit in lines])
    db.session.execute(_MARK_POSTED, {"entry_id": entry_id, "entry_posted_at": utcnow()})
    audit.record_id(JournalEntry.audit_type, entry_id, "created")
    audit.record_id(JournalEntry.audit_type, entry_id, "posted", number)
    posted = hook().accounting_entry_posted
    if posted.get_hookimpls():  # its listeners get the ORM entry, as from post_entry
        posted(entry=db.session.get(JournalEntry, entry_id))
    return entry_id


def line_due_date(origin_type: str | None, origin_id: int | None, on: date) -> date:
    """When an entry's lines fall due (aged receivables): the invoice's or credit note's due date, else its date."""
    if origin_type in ("invoice", "credit_note") and origin_id:
        from addons.invoicing.models import Invoice
        invoice = db.session.get(Invoice, origin_id)
        if invoice is not None and invoice.due_date is not None:
            return invoice.due_date
    return on


def reversal_of(entry: JournalEntry) -> JournalEntry | None:
    return db.session.scalar(select(JournalEntry).where(JournalEntry.reversed_entry_id == entry.id))


def reverse_entry(entry: JournalEntry, on: date | None = None) -> JournalEntry:
    """A posted entry with the lines swapped, linked to ``entry``; the only way to correct a posted entry."""
    if entry.state != "posted":
        raise InvalidTransition("Only posted entries are reversed; change or delete a draft instead.",
                                code="not_posted")
    if entry.origin_type in ("invoice", "credit_note", "payment"):
        raise DomainError(f"Entry {entry.number} comes from a {entry.origin_type.replace('_', ' ')}; correct the "
                          "document instead (add a credit note, or refund the payment).", code="document_entry")
    if reversal_of(entry) is not None:
        raise DomainError(f"Entry {entry.number} is already reversed.", code="already_reversed")
    on = on or max(entry.date, date.today())
    lines = [JournalLine(account_id=l.account_id, account=l.account, partner_id=l.partner_id,
                         label=l.label, debit=l.credit, credit=l.debit) for l in entry.lines]
    reversal = create_entry(on, lines, journal=entry.journal.code, ref=f"Reversal of {entry.number}")
    reversal.reversed_entry_id = entry.id
    post_entry(reversal)
    audit.record(entry, "reversed", reversal.number)
    return reversal


def delete_draft_entry(entry: JournalEntry) -> None:
    if entry.state != "draft":
        raise InvalidTransition(f"Entry {entry.number} is posted; reverse it instead.", code="already_posted")
    if entry.origin_type is not None:
        raise DomainError("This draft belongs to a document.", code="document_entry")
    audit.record(entry, "deleted")
    db.session.delete(entry)
    db.session.flush()


# -- reconciliation reads ----------------------------------------------------------------------------------------
def receivable_line(document_type: str, document_id: int) -> JournalLine | None:
    """The receivable line of a document's posted entry (invoice, credit_note, payment)."""
    return db.session.scalar(
        select(JournalLine).join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .join(Account, Account.id == JournalLine.account_id)
        .where(JournalEntry.origin_type == document_type, JournalEntry.origin_id == document_id,
               JournalEntry.state == "posted", Account.type == "receivable")
        .order_by(JournalLine.id).limit(1))


def matched_amount(line_id: int) -> Decimal:
    return db.session.scalar(select(func.coalesce(func.sum(Reconciliation.amount), 0)).where(
        (Reconciliation.debit_line_id == line_id) | (Reconciliation.credit_line_id == line_id))) or ZERO


def receivable_open_amount(document_type: str, document_id: int) -> Decimal:
    """What is not yet matched on the document's receivable line (always positive; 0 when there is none)."""
    line = receivable_line(document_type, document_id)
    if line is None:
        return ZERO
    return round_money(abs(line.debit - line.credit) - to_decimal(matched_amount(line.id)))


# -- checks ------------------------------------------------------------------------------------------------------
def unbalanced_entry_count() -> int:
    """Posted entries whose debits and credits differ (should always be 0), computed in SQL."""
    unbalanced = (select(JournalLine.entry_id).join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
                  .where(JournalEntry.state == "posted").group_by(JournalLine.entry_id)
                  .having(func.round(func.sum(JournalLine.debit) - func.sum(JournalLine.credit), 2) != 0))
    return db.session.scalar(select(func.count()).select_from(unbalanced.subquery())) or 0


def verify_chain() -> dict:
    """The hash chain over posted entries: ``{ok, entries_checked, keyed, first_broken}`` (see chain.verify)."""
    return chain.verify()


def verify_ledger() -> dict:
    """The chain and every posted document against its entry (checks.verify_documents): ``ok`` when both are."""
    from . import checks
    result = chain.verify()
    documents = checks.verify_documents()
    return dict(result, ok=result["ok"] and documents["ok"], documents=documents)
