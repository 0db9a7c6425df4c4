"""Inalterability: each posted entry carries a hash of (previous hash + canonical content), in one global chain
ordered by ``chain_index`` (gapless, taken under the lock of a core.sequences counter).

The chain is keyed: from its anchor (models.ChainAnchor) on, each hash is HMAC-SHA256 under the ledger key
(``LEDGER_KEY``, from ``KONTOR_LEDGER_KEY`` or instance/ledger_key: never in the database), so someone holding the
database alone can change a line but cannot give it, and every entry after it, hashes that verify. Entries posted
before the ledger had a key keep their plain SHA-256 links (nothing posted is re-hashed); the anchor holds the last
of them's hash under an HMAC, so they cannot be rewritten either. A fresh ledger is anchored at index 0.

``verify()`` walks the chain in chunks (keyset pagination), so it runs in constant memory over millions of lines.
``head_line()`` is a signed chain head a bookkeeper keeps elsewhere; ``check_head()`` proves the chain still holds
it (a chain cut short, or rewritten with the key, fails).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Iterable

from flask import current_app
from sqlalchemy import bindparam, create_engine, func, select
from sqlalchemy.pool import NullPool

from core import sequences
from core.errors import DomainError
from core.extensions import db
from core.models import utcnow

from .models import Account, ChainAnchor, Journal, JournalEntry, JournalLine

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


def digest(prev_hash: str | None, text: str, key: bytes | None = None) -> str:
    """SHA-256 of the link (entries before the anchor), HMAC-SHA256 under ``key`` (entries after it)."""
    message = ((prev_hash or "") + "\n" + text).encode("utf-8")
    if key:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def _key_bytes(key: str | bytes | None) -> bytes | None:
    if not key:
        return None
    return key if isinstance(key, bytes) else key.encode("utf-8")


def ledger_key() -> bytes | None:
    """The app's ledger key (core.config: KONTOR_LEDGER_KEY or instance/ledger_key); None when set empty."""
    return _key_bytes(current_app.config.get("LEDGER_KEY"))


def anchor_mac(key: str | bytes, index: int, prev_hash: str) -> str:
    """The anchor's HMAC: that the unkeyed chain's entry ``index`` had hash ``prev_hash`` (accounting_0006 too)."""
    return hmac.new(_key_bytes(key), f"kontor-ledger-anchor\n{index}\n{prev_hash or ''}".encode("utf-8"),
                    hashlib.sha256).hexdigest()


_ENTRIES, _ANCHORS = JournalEntry.__table__, ChainAnchor.__table__
# Built once; Core columns (not ORM attributes), so reading them neither autoflushes nor builds ORM state: the
# previous link is in the database already (committed, or written by the posting before us in this transaction).
# One statement for the previous hash and the anchor (a posting pays no extra round trip for the key check).
_LINK_STATE = select(
    select(_ENTRIES.c.hash).where(_ENTRIES.c.chain_index == bindparam("index")).scalar_subquery(),
    select(func.count()).select_from(_ANCHORS).scalar_subquery(),
    select(_ANCHORS.c.chain_index).order_by(_ANCHORS.c.chain_index).limit(1).scalar_subquery(),
    select(_ANCHORS.c.hash).order_by(_ANCHORS.c.chain_index).limit(1).scalar_subquery(),
    select(_ANCHORS.c.mac).order_by(_ANCHORS.c.chain_index).limit(1).scalar_subquery())


class LedgerKeyError(DomainError):
    code = "ledger_key"
    status = 409


def link_state(index: int) -> tuple[str | None, bytes | None]:
    """For an entry (or a batch) taking chain place ``index`` under the counter's lock: the hash it links to and
    the key its hash is made with (None: plain SHA-256, a ledger that has no key and was never keyed).

    Refuses to post (LedgerKeyError) when the key is missing or is not the one the chain's anchor was made with
    (posting on would fork the chain into links no one can verify), or when the anchor is gone from a chain that
    has entries. An empty chain with a key and no anchor is anchored at index 0 here, in the posting's
    transaction and under the chain's lock."""
    prev, anchors, anchor_index, anchor_hash, mac = db.session.execute(_LINK_STATE, {"index": index - 1}).one()
    key = ledger_key()
    if not anchors:
        if key is None:
            return prev, None
        if index == 1:
            db.session.execute(_ANCHORS.insert().values(chain_index=0, hash="", mac=anchor_mac(key, 0, ""),
                                                        created_at=utcnow()))
            return prev, key
        raise LedgerKeyError("The ledger's chain has entries but no keyed anchor: it was run without a ledger key, "
                             "or its anchor was removed. Nothing is posted until it is keyed (`python run.py ledger "
                             "anchor --help`).")
    if key is None:
        raise LedgerKeyError("The ledger's chain is keyed but no ledger key is set (KONTOR_LEDGER_KEY); set the key "
                             "it was keyed with, then post.")
    if anchors > 1 or not hmac.compare_digest(anchor_mac(key, anchor_index, anchor_hash), mac):
        raise LedgerKeyError("The ledger key (KONTOR_LEDGER_KEY) is not the one this ledger's chain was keyed with, "
                             "or its anchor was changed; nothing is posted until `ledger verify` passes.")
    if index <= anchor_index:
        raise LedgerKeyError(f"The ledger's chain ends before its anchor (chain index {anchor_index}): entries are "
                             "missing; run `python run.py ledger verify`.")
    return prev, key


def link(number: str, journal_code: str, on: date, lines: Iterable[tuple]) -> tuple[int, str | None, str]:
    """The next place in the chain, under its counter's lock: ``(chain_index, prev_hash, hash)`` for an entry of
    these lines (account_code, partner_id, label, debit, credit), in the order their ids will have."""
    index = sequences.take(CHAIN_CODE, CHAIN_DATE)
    prev, key = link_state(index)
    return index, prev, digest(prev, canonical(number, journal_code, on, lines), key)


def seal(entry: JournalEntry) -> None:
    """Give ``entry`` (number set, lines flushed) its place in the chain and its hash."""
    lines = [(l.account.code, l.partner_id, l.label, l.debit, l.credit) for l in sorted(entry.lines, key=lambda l: l.id)]
    entry.chain_index, entry.prev_hash, entry.hash = link(entry.number, entry.journal.code, entry.date, lines)


PARALLEL_FROM = 20_000  # links: below this, starting processes costs more than it saves


def _broken(checked: int, reason: str, entry_id=None, number=None, keyed: bool = False) -> dict:
    return {"ok": False, "entries_checked": checked, "keyed": keyed,
            "first_broken": {"entry_id": entry_id, "number": number, "reason": reason}}


def _anchor_check(conn, key: bytes | None) -> tuple[dict | None, int | None, str | None]:
    """``(refusal or None, anchor index, anchor hash)``: the anchor must be one row, signed with this key."""
    rows = conn.execute(select(_ANCHORS.c.chain_index, _ANCHORS.c.hash, _ANCHORS.c.mac)
                        .order_by(_ANCHORS.c.chain_index)).all()
    if not rows:
        return None, None, None
    if key is None:
        return _broken(0, f"the chain is keyed from chain index {rows[0].chain_index} but no ledger key is set "
                          "(KONTOR_LEDGER_KEY): it cannot be checked"), None, None
    if len(rows) > 1:
        return _broken(0, f"the chain has {len(rows)} anchors; it was keyed once"), None, None
    index, anchor_hash, mac = rows[0]
    if not hmac.compare_digest(anchor_mac(key, index, anchor_hash), mac or ""):
        return _broken(0, f"its keyed anchor (chain index {index}) does not match its HMAC: the ledger key is not "
                          "the one that keyed this chain, or the anchor was changed"), None, None
    return None, index, anchor_hash


def verify(chunk: int = CHUNK, jobs: int = 1) -> dict:
    """``{ok, entries_checked, keyed, first_broken: None | {entry_id, number, reason}}``.

    Up to the anchor each link is a SHA-256, after it an HMAC under the ledger key; the anchor's own HMAC says
    which hash the unkeyed part ends with. ``keyed`` is whether the chain has a valid anchor. A ledger with a key
    and entries but no anchor is not ok (someone removed it, or the ledger was never keyed: run.py ledger anchor).

    Each link is checked against the stored hash of the one before it, so the chain can be cut into ``jobs``
    ranges walked side by side in separate processes (``run.py ledger verify`` uses every core); the first break
    is the one in the earliest range, and what comes before it was all checked, exactly as one walk would say."""
    conn = db.session.connection()
    key = ledger_key()
    refused, anchor_index, anchor_hash = _anchor_check(conn, key)
    if refused:
        return refused
    keyed = anchor_index is not None
    top = conn.scalar(select(func.max(JournalEntry.chain_index))) or 0
    if jobs <= 1 or top < PARALLEL_FROM:
        result = _walk(conn, 1, top, None, chunk, key, anchor_index, anchor_hash)
    else:
        size = -(-top // jobs)
        ranges = [(first, min(first + size - 1, top)) for first in range(1, top + 1, size)]
        # the hash each range links to; a missing one shows up as a break at the end of the range before
        before = dict(conn.execute(select(JournalEntry.chain_index, JournalEntry.hash).where(
            JournalEntry.chain_index.in_([first - 1 for first, _ in ranges[1:]]))).all())
        url = db.engine.url
        n = len(ranges)
        with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("fork")) as pool:
            parts = list(pool.map(_walk_in_process, [url] * n, [f for f, _ in ranges],
                                  [last for _, last in ranges], [before.get(f - 1) for f, _ in ranges],
                                  [chunk] * n, [key] * n, [anchor_index] * n, [anchor_hash] * n))
        result, checked = parts[-1], 0
        for part in parts:
            checked += part["entries_checked"]
            if not part["ok"]:
                result = part
                break
        result = dict(result, entries_checked=checked)
    if not result["ok"]:
        return dict(_broken(result["entries_checked"], "", keyed=keyed), first_broken=result["first_broken"])
    checked, last_index = result["entries_checked"], result["last_index"]
    # The counter knows how many links were made, the anchor where keying began: a removed tail is a break too.
    made = max(sequences.peek(CHAIN_CODE, CHAIN_DATE.year) - 1, anchor_index or 0)
    if made > last_index:
        return _broken(checked, f"entries after chain index {last_index} are missing", keyed=keyed)
    # Posted entries outside the chain (no index) would be a break too.
    stray = db.session.execute(select(JournalEntry.id, JournalEntry.number)
                               .where(JournalEntry.state == "posted", JournalEntry.chain_index.is_(None))
                               .limit(1)).first()
    if stray:
        return _broken(checked, "it is not in the chain", stray.id, stray.number, keyed=keyed)
    if not keyed and key is not None and checked:
        return _broken(checked, "the chain is not keyed: it has no anchor (removed, or this ledger was run "
                                "without a key: see `python run.py ledger anchor --help`)")
    return {"ok": True, "entries_checked": checked, "keyed": keyed, "first_broken": None}


def _walk_in_process(url, first: int, last: int, prev_hash: str | None, chunk: int, key: bytes | None,
                     anchor_index: int | None, anchor_hash: str | None) -> dict:
    """One range of the chain, on a connection of its own (a forked process must not share the parent's)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return _walk(conn, first, last, prev_hash, chunk, key, anchor_index, anchor_hash)
    finally:
        engine.dispose()


def _walk(conn, first: int, last: int, prev_hash: str | None, chunk: int, key: bytes | None = None,
          anchor_index: int | None = None, anchor_hash: str | None = None) -> dict:
    """Links ``first``..``last`` in order, given the hash the first one must link to: plain SHA-256 up to
    ``anchor_index``, whose hash must be ``anchor_hash``, HMAC under ``key`` after it (no anchor: all plain).

    Plain rows (Core, no ORM objects): per chunk of ``chunk`` links, one keyset query for the heads through the
    unique chain_index index (filtering on state would make the database walk every posted entry and sort them,
    once per chunk), and one for their lines by the same chain_index range (not an IN list of ids); account codes
    come from a dict read once."""
    checked = 0
    expected_index = first
    last_index = first - 1
    keyed_after = anchor_index if anchor_index is not None else 2 ** 31
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
            elif digest(prev_hash, canonical(number, code, on, lines[entry_id]),
                        key if chain_index > keyed_after else None) != stored:
                broken = "its content does not match its hash"
            elif chain_index == anchor_index and stored != anchor_hash:
                broken = "its hash is not the one the chain's keyed anchor holds"
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
    """A quick check of the last ``count`` links and of the anchor (the dashboard); the full walk is ``verify()``."""
    conn = db.session.connection()
    key = ledger_key()
    refused, anchor_index, anchor_hash = _anchor_check(conn, key)
    if refused:
        return refused
    last = conn.scalar(select(func.max(JournalEntry.chain_index))) or 0
    start = max(0, last - count)
    prev_hash = conn.scalar(select(JournalEntry.hash).where(JournalEntry.chain_index == start)) if start else None
    result = _walk(conn, start + 1, last, prev_hash, CHUNK, key, anchor_index, anchor_hash)
    keyed = anchor_index is not None
    if result["ok"] and anchor_index is not None and anchor_index > last:
        return _broken(result["entries_checked"], f"entries after chain index {last} are missing", keyed=keyed)
    if result["ok"] and not keyed and key is not None and last:
        return _broken(result["entries_checked"], "the chain is not keyed: it has no anchor")
    return {"ok": result["ok"], "entries_checked": result["entries_checked"], "keyed": keyed,
            "first_broken": result["first_broken"]}


# -- the signed chain head -------------------------------------------------------------------------------------------
_HEAD = re.compile(r"^\s*kontor-ledger-head\s+index=(\d+)\s+hash=([0-9a-f]{64}|-)\s+date=(\d{4}-\d{2}-\d{2})"
                   r"\s+hmac=([0-9a-f]{64})\s*$")


def _head_mac(key: bytes, index: int, head_hash: str, on: str) -> str:
    return hmac.new(key, f"kontor-ledger-head\n{index}\n{head_hash}\n{on}".encode("utf-8"),
                    hashlib.sha256).hexdigest()


def _is_plain(conn, index: int, codes: dict) -> bool:
    """Whether chain entry ``index`` is hashed as the unkeyed chain hashes (SHA-256 of its stored link)."""
    head = conn.execute(_HEADS, {"last": index - 1, "top": index, "chunk": 1}).first()
    if head is None:
        return False
    lines = [(codes.get(account_id), partner_id, label, debit, credit) for _, account_id, partner_id, label, debit,
             credit in conn.execute(_LINES, {"last": index - 1, "upto": index}).all()]
    return digest(head.prev_hash, canonical(head.number, head.code, head.date, lines)) == head.hash


def unkeyed_end(conn) -> int:
    """The chain index where the unkeyed (SHA-256) part of the chain ends: the last entry for a ledger that was
    never keyed, 0 for one keyed from its start, or where keying began (the anchor table re-created by a
    downgrade and upgrade). Unkeyed then keyed, never back: a binary search reads O(log n) entries."""
    top = conn.scalar(select(func.max(_ENTRIES.c.chain_index))) or 0
    codes = dict(conn.execute(select(Account.id, Account.code)).all())
    if top == 0 or _is_plain(conn, top, codes):
        return top
    low, high = 0, top  # entry low is plain (0: none), entry high is not
    while high - low > 1:
        middle = (low + high) // 2
        if _is_plain(conn, middle, codes):
            low = middle
        else:
            high = middle
    return low


def ensure_anchor(key_entries: bool = False) -> bool:
    """Key an unkeyed chain at its current last entry (``run.py ledger anchor``), under the chain's lock; the
    caller commits. Returns whether an anchor was made. Refuses when there is no key, or the unkeyed chain does
    not verify (an anchor would vouch for what was changed), or, unless ``key_entries``, when it has entries: a
    ledger is anchored by its migration, so entries without an anchor are either a ledger run without a key on
    purpose or a keyed ledger whose anchor was removed and chain rewritten, which only a person can tell apart."""
    key = ledger_key()
    if key is None:
        raise LedgerKeyError("No ledger key is set (KONTOR_LEDGER_KEY): the chain cannot be keyed.")
    sequences.take(CHAIN_CODE, CHAIN_DATE, count=0)  # the chain's lock: no posting between our read and write
    if db.session.scalar(select(func.count()).select_from(_ANCHORS)):
        return False
    if not key_entries and db.session.scalar(select(func.count()).select_from(_ENTRIES)
                                             .where(_ENTRIES.c.chain_index.is_not(None))):
        raise LedgerKeyError("The chain has entries but no anchor. If this ledger was run without a ledger key on "
                             "purpose, key it now with `python run.py ledger anchor --key-unkeyed-chain`. If it was "
                             "keyed, its anchor was removed and the chain may have been rewritten: compare it with a "
                             "kept head (`ledger verify --anchor`) or restore a backup; do not key it.")
    unkeyed = verify()
    if unkeyed["first_broken"] and "not keyed" not in unkeyed["first_broken"]["reason"]:
        raise LedgerKeyError(f"The chain does not verify ({unkeyed['first_broken']['reason']}); it is not keyed over "
                             "a changed ledger. Restore a backup first.")
    last = db.session.execute(select(_ENTRIES.c.chain_index, _ENTRIES.c.hash).order_by(_ENTRIES.c.chain_index.desc())
                              .where(_ENTRIES.c.chain_index.is_not(None)).limit(1)).first()
    index, head_hash = (last[0], last[1] or "") if last else (0, "")
    db.session.execute(_ANCHORS.insert().values(chain_index=index, hash=head_hash,
                                                mac=anchor_mac(key, index, head_hash), created_at=utcnow()))
    return True


def head_line(on: date | None = None) -> str:
    """``kontor-ledger-head index=N hash=H date=D hmac=M``: the chain's last entry, signed with the ledger key."""
    key = ledger_key()
    if key is None:
        raise LedgerKeyError("No ledger key is set (KONTOR_LEDGER_KEY): a chain head cannot be signed.")
    last = db.session.execute(select(_ENTRIES.c.chain_index, _ENTRIES.c.hash).order_by(_ENTRIES.c.chain_index.desc())
                              .where(_ENTRIES.c.chain_index.is_not(None)).limit(1)).first()
    index, head_hash = (last[0], last[1]) if last else (0, "-")
    day = (on or date.today()).isoformat()
    return f"kontor-ledger-head index={index} hash={head_hash} date={day} hmac={_head_mac(key, index, head_hash, day)}"


def check_head(line: str, jobs: int = 1) -> dict:
    """Whether the chain still holds the kept head ``line`` (at its index, with its hash) and verifies:
    ``verify()``'s answer, or a break saying why the head does not match. ValueError: not a head line."""
    found = _HEAD.match(line or "")
    if not found:
        raise ValueError("not a chain head: expected `kontor-ledger-head index=N hash=H date=YYYY-MM-DD hmac=M` "
                         "as `python run.py ledger anchor` prints it")
    index, head_hash, day, mac = int(found[1]), found[2], found[3], found[4]
    key = ledger_key()
    if key is None:
        return _broken(0, "no ledger key is set (KONTOR_LEDGER_KEY): the head line cannot be checked")
    if not hmac.compare_digest(_head_mac(key, index, head_hash, day), mac):
        return _broken(0, "the head line's HMAC does not match: it was changed, or signed with another ledger key")
    if index:
        row = db.session.execute(select(_ENTRIES.c.id, _ENTRIES.c.number, _ENTRIES.c.hash)
                                 .where(_ENTRIES.c.chain_index == index)).first()
        if row is None:
            return _broken(0, f"the chain no longer reaches chain index {index}, the head kept on {day}: "
                              "entries were removed")
        if row.hash != head_hash:
            return _broken(0, f"chain index {index} no longer holds the head kept on {day}: the chain was rewritten",
                           row.id, row.number)
    return verify(jobs=jobs)
