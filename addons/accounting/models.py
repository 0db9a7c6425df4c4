"""Accounting tables: chart of accounts, journals, the mapping from documents to accounts, entries and their
lines, and the reconciliations that match receivable lines."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import Base
from core.models import Partner, utcnow
from core.money import MONEY, ZERO

ACCOUNT_TYPES = ("receivable", "payable", "income", "expense", "bank", "cash", "tax", "equity", "asset", "liability")
JOURNAL_TYPES = ("sale", "bank", "cash", "general")
ENTRY_STATES = ("draft", "posted")


class Account(Base):
    __tablename__ = "accounting_accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(12), index=True)


class Journal(Base):
    __tablename__ = "accounting_journals"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(10))
    # Bank and cash journals: the account their money lands on.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_accounts.id"), nullable=True)
    account: Mapped[Account | None] = relationship(lazy="joined")


class ProductTypeAccount(Base):
    """Income account per product type (labour, part, service)."""
    __tablename__ = "accounting_product_type_accounts"
    product_type: Mapped[str] = mapped_column(String(10), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounting_accounts.id"))
    account: Mapped[Account] = relationship(lazy="joined")


class ProductAccount(Base):
    """An income account for one product, overriding its type's."""
    __tablename__ = "accounting_product_accounts"
    product_id: Mapped[int] = mapped_column(ForeignKey("invoicing_products.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounting_accounts.id"))
    account: Mapped[Account] = relationship(lazy="joined")


class TaxAccount(Base):
    """VAT account per tax."""
    __tablename__ = "accounting_tax_accounts"
    tax_id: Mapped[int] = mapped_column(ForeignKey("invoicing_taxes.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounting_accounts.id"))
    account: Mapped[Account] = relationship(lazy="joined")


class JournalEntry(Base):
    """A header plus balanced lines. Drafts can change; posted entries never do (ORM listener and triggers)."""
    __tablename__ = "accounting_entries"
    __table_args__ = (
        UniqueConstraint("number", name="uq_accounting_entry_number"),
        UniqueConstraint("chain_index", name="uq_accounting_entry_chain"),
        UniqueConstraint("journal_id", "fiscal_year", "seq", name="uq_accounting_entry_seq"),
        Index("ix_accounting_entries_date", "date"),
        Index("ix_accounting_entries_journal_date", "journal_id", "date"),
        Index("ix_accounting_entries_origin", "origin_type", "origin_id"),
        Index("ix_accounting_entries_state_date", "state", "date"),
        # The journal-entries list sorted by ref or state (date, number, journal and origin have theirs).
        Index("ix_accounting_entries_ref", "ref", "id"),
        Index("ix_accounting_entries_state_id", "state", "id"),
        # Sorted by journal: each journal's entries in id order (queries.entry_page).
        Index("ix_accounting_entries_journal_id", "journal_id", "id"),
    )
    audit_type = "journal_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    journal_id: Mapped[int] = mapped_column(ForeignKey("accounting_journals.id"))
    number: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # The number's parts, for the gap check: ``seq`` of ``fiscal_year`` in the journal.
    fiscal_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default="draft")
    ref: Mapped[str] = mapped_column(String(200), default="")
    origin_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    origin_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reversed_entry_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_entries.id"), nullable=True,
                                                          index=True)
    chain_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    journal: Mapped[Journal] = relationship(lazy="joined")
    lines: Mapped[list["JournalLine"]] = relationship(back_populates="entry", order_by="JournalLine.id",
                                                      cascade="all, delete-orphan")

    @property
    def total_debit(self) -> Decimal:
        return sum((l.debit for l in self.lines), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((l.credit for l in self.lines), ZERO)


POSTED_LINE = "posted_date IS NOT NULL"


class JournalLine(Base):
    """``posted_date`` and ``due_date`` copy what the reports need from the entry (and its invoice), so they read
    posted lines from one covering index, without joining a million entries: ``posted_date`` is the entry's date,
    set when it is posted (NULL while draft); ``due_date`` is when the line falls due (the invoice's due date for
    invoice and credit note entries, else the entry's date), for aged receivables. Both never change once posted."""
    __tablename__ = "accounting_lines"
    __table_args__ = (
        Index("ix_accounting_lines_entry", "entry_id"),
        Index("ix_accounting_lines_account", "account_id", "entry_id"),
        Index("ix_accounting_lines_partner", "partner_id", "account_id"),
        # Trial balance, general ledger (page, count, totals, opening balance as an index range sum).
        Index("ix_accounting_lines_posted_account", "account_id", "posted_date", "entry_id", "id", "debit", "credit",
              sqlite_where=text(POSTED_LINE), postgresql_where=text(POSTED_LINE)),
        # Partner ledger and aged receivables.
        Index("ix_accounting_lines_posted_partner", "partner_id", "posted_date", "entry_id", "id", "account_id",
              "due_date", "debit", "credit", sqlite_where=text(POSTED_LINE + " AND partner_id IS NOT NULL"),
              postgresql_where=text(POSTED_LINE + " AND partner_id IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("accounting_entries.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounting_accounts.id"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("core_partners.id"), nullable=True)
    label: Mapped[str] = mapped_column(Text, default="")
    debit: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    credit: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    posted_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)

    entry: Mapped[JournalEntry] = relationship(back_populates="lines")
    account: Mapped[Account] = relationship(lazy="joined")
    partner: Mapped[Partner | None] = relationship()


class AccountEntryCount(Base):
    """How many entries have a line on ``account_id``: the sum of the account's rows (PostgreSQL; accounting_0005).

    The journal-entries list's exact total when filtered by an account alone, without walking the account's lines.
    Kept by statement triggers on the lines in the writing transaction; never written by the application. SQLite
    leaves it empty and counts from the lines' index (queries.entry_count)."""
    __tablename__ = "accounting_account_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounting_accounts.id"), index=True)
    entries: Mapped[int] = mapped_column(Integer)


class Reconciliation(Base):
    """``amount`` of a debit receivable line matched with a credit receivable line (an invoice with the payment
    or credit note that settled it; a refund with the credit it paid back)."""
    __tablename__ = "accounting_reconciliations"
    id: Mapped[int] = mapped_column(primary_key=True)
    debit_line_id: Mapped[int] = mapped_column(ForeignKey("accounting_lines.id"), index=True)
    credit_line_id: Mapped[int] = mapped_column(ForeignKey("accounting_lines.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChainAnchor(Base):
    """Where the hash chain becomes keyed (chain.py): the entry at ``chain_index`` had ``hash`` (unkeyed, as
    posted before the ledger had a key; "" and index 0 for a chain keyed from its start), and ``mac`` is
    HMAC-SHA256 of both under the ledger key. Entries after it are HMAC-chained. One row, written once (the
    accounting_0006 migration, the first posting of an empty chain, or ``run.py ledger anchor``)."""
    __tablename__ = "accounting_chain_anchors"
    id: Mapped[int] = mapped_column(primary_key=True)
    chain_index: Mapped[int] = mapped_column(Integer, unique=True)
    hash: Mapped[str] = mapped_column(String(64), default="")
    mac: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
