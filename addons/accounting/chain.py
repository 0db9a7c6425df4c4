"""Inalterability: each posted entry carries SHA-256(previous hash + canonical content), in one global chain
ordered by ``chain_index`` (gapless, taken under the lock of a core.sequences counter).

``verify()`` walks the chain in chunks (keyset pagination), so it runs in constant memory over millions of lines.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Iterable

from sqlalchemy import bindparam, create_engine, func, select
from sqlalchemy.pool import NullPool

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


# Built once; a Core column (not the ORM attribute), so reading it neither autoflushes nor builds ORM state: the
# previous link is in the database already (committed, or written by the posting before us in this transaction).
_PREV_HASH = select(JournalEntry.__table__.c.hash).where(JournalEntry.__table__.c.chain_index == bindparam("index"))


def link(number: str, journal_code: str, on: date, lines: Iterable[tuple]) -> tuple[int, str | None, str]:
    """The next place in the chain, under its counter's lock: ``(chain_index, prev_hash, hash)`` for an entry of
    these lines (account_code, partner_id, label, debit, credit), in the order their ids will have."""
    index = sequences.take(CHAIN_CODE, CHAIN_DATE)
    prev = db.session.execute(_PREV_HASH, {"index": index - 1}).scalar() if index > 1 else None
    return index, prev, digest(prev, canonical(number, journal_code, on, lines))


def seal(entry: JournalEntry) -> None:
    """Give ``entry`` (number set, lines flushed) its place in the chain and its hash."""
    lines = [(l.account.code, l.partner_id, l.label, l.debit, l.credit) for l in sorted(entry.lines, key=lambda l: l.id)]
    entry.chain_index, entry.prev_hash, entry.hash = link(entry.number, entry.journal.code, entry.date, lines)


PARALLEL_FROM = 20_000  # links: below this, starting processes costs more than it saves


def verify(chunk: int = CHUNK, jobs: int = 1) -> dict:
    """``{ok, entries_checked, first_broken: None | {entry_id, number, reason}}``.

    Each link is checked against the stored hash of the one before it, so the chain can be cut into ``jobs``
    ranges walked side by side in separate processes (``run.py ledger verify`` uses every core); the first break
    is the one in the earliest range, and what comes before it was all checked, exactly as one walk would say."""
    conn = db.session.connection()
    top = conn.scalar(select(func.max(JournalEntry.chain_index))) or 0
    if jobs <= 1 or top < PARALLEL_FROM:
        result = _walk(conn, 1, top, None, chunk)
    else:
        size = -(-top // jobs)
        ranges = [(first, min(first + size - 1, top)) for first in range(1, top + 1, size)]
        # the hash each range links to; a missing one shows up as a break at the end of the range before
        before = dict(conn.execute(select(JournalEntry.chain_index, JournalEntry.hash).where(
            JournalEntry.chain_index.in_([first - 1 for first, _ in ranges[1:]]))).all())
        url = db.engine.url
        with ProcessPoolExecutor(max_workers=len(ranges), mp_context=multiprocessing.get_context("fork")) as pool:
            parts = list(pool.map(_walk_in_process, [url] * len(ranges), [f for f, _ in ranges],
                                  [last for _, last in ranges], [before.get(f - 1) for f, _ in ranges],
                                  [chunk] * len(ranges)))
        result, checked = parts[-1], 0
        for part in parts:
            checked += part["entries_checked"]
            if not part["ok"]:
                result = part
                break
        result = dict(result, entries_checked=checked)
    if not result["ok"]:
        return {key: result[key] for key in ("ok", "entries_checked", "first_broken")}
    checked, last_index = result["entries_checked"], result["last_index"]
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


def _walk_in_process(url, first: int, last: int, prev_hash: str | None, chunk: int) -> dict:
    """One range of the chain, on a connection of its own (a forked process must not share the parent's)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return _walk(conn, first, last, prev_hash, chunk)
    finally:
        engine.dispose()


def _walk(conn, first: int, last: int, prev_hash: str | None, chunk: int) -> dict:
    """Links ``first``..``last`` in order, given the hash the first one must link to.

    Plain rows (Core, no ORM objects): per chunk of ``chunk`` links, one keyset query for the heads through the
    unique chain_index index (filtering on state would make the database walk every posted entry and sort them,
    once per chunk), and one for their lines by the same chain_index range (not an IN list of ids); account codes
    come from a dict read once."""
    checked = 0
    expected_index = first
    last_index = first - 1
    codes = dict(conn.execute(select(Account.id, Account.code)).all())
    while True:
        heads = conn.execute(_HEADS, {"last": last_index, "top": last, "chunk": chunk}).all()
        if not heads:
            break
        lines: dict[int, list[tuple]] = {h[0]: [] for h in heads}
        for entry_id, account_id, partner_id, label, debit, credit in conn.execute(
                _LINES, {"last": last_index, "upto": heads[-1][3]}).all():
            lines[entry_id].append((codes.get(account_id), partner_id, label, debit, credit))
        for entry_id, number, on, chain_index, link, stored, code, state in heads:
            broken = None
            if chain_index != expected_index:
                broken = f"chain index {expected_index} is missing"
            elif state != "posted":
                broken = "it has a place in the chain but is not posted"
            elif (link or None) != prev_hash:
                broken = "its link to the previous entry does not match"
            elif digest(prev_hash, canonical(number, code, on, lines[entry_id])) != stored:
                broken = "its content does not match its hash"
            if broken:
                return {"ok": False, "entries_checked": checked, "last_index": last_index,
                        "first_broken": {"entry_id": entry_id, "number": number, "reason": broken}}
            checked += 1
            prev_hash = stored
            expected_index += 1
            last_index = chain_index
    if last_index < last:
        # The range's end is missing: name the next link there is, as one walk over the whole chain would (the
        # chain's own tail is checked against the counter by verify()).
        after = conn.execute(_HEADS, {"last": last_index, "top": 2 ** 31 - 1, "chunk": 1}).first()
        return {"ok": False, "entries_checked": checked, "last_index": last_index,
                "first_broken": {"entry_id": after[0] if after else None, "number": after[1] if after else None,
                                 "reason": f"chain index {last_index + 1} is missing"}}
    return {"ok": True, "entries_checked": checked, "last_index": last_index, "first_broken": None}


_HEADS = (select(JournalEntry.id, JournalEntry.number, JournalEntry.date, JournalEntry.chain_index,
                 JournalEntry.prev_hash, JournalEntry.hash, Journal.code, JournalEntry.state)
          .join(Journal, Journal.id == JournalEntry.journal_id)
          .where(JournalEntry.chain_index > bindparam("last"), JournalEntry.chain_index <= bindparam("top"))
          .order_by(JournalEntry.chain_index).limit(bindparam("chunk")))
_LINES = (select(JournalLine.entry_id, JournalLine.account_id, JournalLine.partner_id, JournalLine.label,
                 JournalLine.debit, JournalLine.credit)
          .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
          .where(JournalEntry.chain_index > bindparam("last"), JournalEntry.chain_index <= bindparam("upto"))
          .order_by(JournalEntry.chain_index, JournalLine.id))


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
