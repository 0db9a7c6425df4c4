"""Inalterability: each posted entry carries SHA-256(previous hash + canonical content), in one global chain
ordered by ``chain_index`` (gapless, taken under the lock of a core.sequences counter).

``verify()`` walks the chain in chunks (keyset pagination), so it runs in constant memory over millions of lines.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from typing import Iterable

from sqlalchemy import bindparam, select

from core import sequences
from core.extensions import db

from .models import Account, Journal, JournalEntry, JournalLine

CHAIN_CODE = "accounting.chain"
CHAIN_DATE = date(2000, 1, 1)  # one counter for the whole chain, whatever the entries' years
CHUNK = 2000


def _amount(value) -> str:
    if not value:  # None, 0 and -0.00 alike, as Decimal(value or 0) had it
        return "0.00"
    # Decimal, int and float format to the same text as Decimal(value) would (a float's exact value, rounded).
    return f"{Decimal(value) if isinstance(value, str) else value:.2f}"


# json.dumps(body, ensure_ascii=False, separators=(",", ":")) without building an encoder per entry (verify).
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def canonical(number: str, journal_code: str, on: date, lines: Iterable[tuple]) -> str:
    """Lines are (account_code, partner_id, label, debit, credit) in line id order."""
    body = [number, journal_code, on.isoformat(),
            [[code, partner_id or "", label or "", _amount(debit), _amount(credit)]
             for code, partner_id, label, debit, credit in lines]]
    return _ENCODE(body)


def digest(prev_hash: str | None, text: str) -> str:
    return hashlib.sha256(((prev_hash or "") + "\n" + text).encode("utf-8")).hexdigest()


_PREV_HASH = select(JournalEntry.hash).where(JournalEntry.chain_index == bindparam("index"))  # built once


def seal(entry: JournalEntry) -> None:
    """Give ``entry`` (number set, lines flushed) its place in the chain and its hash."""
    index = sequences.take(CHAIN_CODE, CHAIN_DATE)
    prev = None
    if index > 1:
        # Without autoflush: the previous link is in the database already (committed, or flushed by the
        # post_entry before us), and ``entry``'s pending changes go out once, with its hash.
        with db.session.no_autoflush:
            prev = db.session.scalar(_PREV_HASH, {"index": index - 1})
    lines = [(l.account.code, l.partner_id, l.label, l.debit, l.credit) for l in sorted(entry.lines, key=lambda l: l.id)]
    entry.chain_index = index
    entry.prev_hash = prev
    entry.hash = digest(prev, canonical(entry.number, entry.journal.code, entry.date, lines))


def verify(chunk: int = CHUNK) -> dict:
    """``{ok, entries_checked, first_broken: None | {entry_id, number, reason}}``.

    Streams plain rows on the session's connection (Core, no ORM objects): per chunk of ``chunk`` links, one
    keyset query for the heads (chain_index > last) and one for their lines."""
    checked = 0
    prev_hash: str | None = None
    expected_index = 1
    last_index = 0
    conn = db.session.connection()
    heads_query = (select(JournalEntry.id, JournalEntry.number, JournalEntry.date, JournalEntry.chain_index,
                          JournalEntry.prev_hash, JournalEntry.hash, Journal.code)
                   .join(Journal, Journal.id == JournalEntry.journal_id)
                   .where(JournalEntry.state == "posted", JournalEntry.chain_index > bindparam("last"))
                   .order_by(JournalEntry.chain_index).limit(chunk))
    lines_query = (select(JournalLine.entry_id, Account.code, JournalLine.partner_id, JournalLine.label,
                          JournalLine.debit, JournalLine.credit)
                   .join(Account, Account.id == JournalLine.account_id)
                   .where(JournalLine.entry_id.in_(bindparam("ids", expanding=True)))
                   .order_by(JournalLine.entry_id, JournalLine.id))
    while True:
        heads = conn.execute(heads_query, {"last": last_index}).all()
        if not heads:
            break
        lines: dict[int, list[tuple]] = {h[0]: [] for h in heads}
        for row in conn.execute(lines_query, {"ids": list(lines)}).all():
            lines[row[0]].append(row[1:])
        for entry_id, number, on, chain_index, link, stored, code in heads:
            broken = None
            if chain_index != expected_index:
                broken = f"chain index {expected_index} is missing"
            elif (link or None) != prev_hash:
                broken = "its link to the previous entry does not match"
            elif digest(prev_hash, canonical(number, code, on, lines[entry_id])) != stored:
                broken = "its content does not match its hash"
            if broken:
                return {"ok": False, "entries_checked": checked,
                        "first_broken": {"entry_id": entry_id, "number": number, "reason": broken}}
            checked += 1
            prev_hash = stored
            expected_index += 1
            last_index = chain_index
    # The counter knows how many links were made: a removed tail is a break too.
    made = sequences.peek(CHAIN_CODE, CHAIN_DATE.year) - 1
    if made > last_index:
        return {"ok": False, "entries_checked": checked,
                "first_broken": {"entry_id": None, "number": None,
                                 "reason": f"entries after chain index {last_index} are missing"}}
    # Posted entries outside the chain (no index) would be a break too.
    stray = db.session.execute(select(JournalEntry.id, JournalEntry.number)
                               .where(JournalEntry.state == "posted", JournalEntry.chain_index.is_(None))
                               .limit(1)).first()
    if stray:
        return {"ok": False, "entries_checked": checked,
                "first_broken": {"entry_id": stray.id, "number": stray.number, "reason": "it is not in the chain"}}
    return {"ok": True, "entries_checked": checked, "first_broken": None}


def verify_tail(count: int = 200) -> dict:
    """A quick check of the last ``count`` links (the dashboard); the full walk is ``verify()``."""
    last = db.session.scalar(select(JournalEntry.chain_index).where(JournalEntry.chain_index.is_not(None))
                             .order_by(JournalEntry.chain_index.desc()).limit(1)) or 0
    start = max(0, last - count)
    prev_hash = None
    if start > 0:
        prev_hash = db.session.scalar(select(JournalEntry.hash).where(JournalEntry.chain_index == start))
    rows = db.session.execute(
        select(JournalEntry.id, JournalEntry.number, JournalEntry.date, JournalEntry.chain_index,
               JournalEntry.prev_hash, JournalEntry.hash, Journal.code)
        .join(Journal, Journal.id == JournalEntry.journal_id)
        .where(JournalEntry.chain_index > start).order_by(JournalEntry.chain_index)).all()
    ids = [r.id for r in rows]
    lines: dict[int, list[tuple]] = {i: [] for i in ids}
    if ids:
        for row in db.session.execute(
                select(JournalLine.entry_id, Account.code, JournalLine.partner_id, JournalLine.label,
                       JournalLine.debit, JournalLine.credit)
                .join(Account, Account.id == JournalLine.account_id)
                .where(JournalLine.entry_id.in_(ids)).order_by(JournalLine.entry_id, JournalLine.id)):
            lines[row.entry_id].append(tuple(row)[1:])
    expected = start + 1
    for r in rows:
        if r.chain_index != expected or (r.prev_hash or None) != prev_hash or \
                digest(prev_hash, canonical(r.number, r.code, r.date, lines[r.id])) != r.hash:
            return {"ok": False, "entries_checked": expected - start - 1,
                    "first_broken": {"entry_id": r.id, "number": r.number}}
        prev_hash = r.hash
        expected += 1
    return {"ok": True, "entries_checked": len(rows), "first_broken": None}
