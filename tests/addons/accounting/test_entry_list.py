"""The journal-entries list filtered by account and sorted by journal returns exactly the right entries, in the right
order, with the right total, page after page (queries.entry_page reads them by other paths than one ORDER BY: the
account's count from the lines' index, the journal sort journal by journal)."""
from __future__ import annotations

import re

import pytest

import addons.accounting.views as views


@pytest.fixture
def entries(books):
    """Entries in four journals, some with two lines on the same account, one draft."""
    books.invoice(on="2026-01-10")
    first = books.invoice(on="2026-02-01")
    books.pay(first, "50.00", on="2026-02-15")
    made = []
    for journal, on, lines in [
            ("BNK", "2026-03-01", [("512000", "10.00", None), ("512000", "5.00", None), ("471000", None, "15.00")]),
            ("GEN", "2026-03-02", [("530000", "7.00", None), ("471000", None, "7.00")]),
            ("CSH", "2026-03-03", [("530000", "3.00", None), ("530000", "4.00", None), ("512000", None, "7.00")]),
            ("GEN", "2026-03-04", [("512000", "1.00", None), ("471000", None, "1.00")]),
            ("BNK", "2026-03-05", [("512000", "2.00", None), ("512000", "2.00", None), ("471000", None, "4.00")])]:
        r = books.books.post("/journal-entries", json={"journal": journal, "date": on, "ref": f"{journal} {on}",
                                                       "lines": [{"account_code": a, "debit": d, "credit": c}
                                                                 for a, d, c in lines]})
        assert r.status_code == 201, r.json
        made.append(r.json["id"])
    for entry_id in made[:-1]:  # the last one stays a draft
        assert books.books.post(f"/journal-entries/{entry_id}/post").status_code == 200
    everything = books.books.get("/journal-entries?limit=500").json
    assert everything["total"] == len(everything["items"]) == 8
    return everything["items"]


def _walk(books, query: str, limit: int) -> tuple[list[int], set[int]]:
    """The ids of every page of ``limit`` in turn, and the totals the pages gave."""
    ids, totals, offset = [], set(), 0
    while True:
        page = books.books.get(f"/journal-entries?{query}&limit={limit}&offset={offset}").json
        totals.add(page["total"])
        if not page["items"]:
            return ids, totals
        ids += [e["id"] for e in page["items"]]
        offset += limit


def _by_date(items):
    return [e["id"] for e in sorted(items, key=lambda e: (e["date"], e["id"]), reverse=True)]


@pytest.mark.parametrize("few", [True, False])
@pytest.mark.parametrize("account", ["512000", "530000", "471000", "411000", "999999"])
def test_the_account_filter_counts_and_lists_each_entry_once(books, entries, account, few, monkeypatch):
    """Both ways to read an account's entries: from its lines' index when it is on few, walking the entries when
    on many."""
    import addons.accounting.queries as queries
    monkeypatch.setattr(queries, "FEW_ENTRIES", 20_000 if few else 0)
    expected = _by_date([e for e in entries if any(line["account_code"] == account for line in e["lines"])])
    for limit in (1, 2, 3, 50):
        ids, totals = _walk(books, f"account={account}", limit)
        assert ids == expected, limit
        assert totals == {len(expected)}
    # with a further filter (the count then reads the entries as the page does)
    posted = [i for i in expected if next(e for e in entries if e["id"] == i)["state"] == "posted"]
    ids, totals = _walk(books, f"account={account}&state=posted", 2)
    assert ids == posted and totals == {len(posted)}


@pytest.mark.parametrize("sort", ["journal", "-journal"])
@pytest.mark.parametrize("filters", ["", "state=posted", "account=512000", "journal=GEN", "journal=NONE"])
def test_sorted_by_journal_every_page_holds_the_right_entries(books, entries, sort, filters):
    query = "&".join(p for p in (filters, f"sort={sort}") if p)
    everything = books.books.get(f"/journal-entries?{filters}&limit=500").json["items"]
    expected = [e["id"] for e in sorted(everything, key=lambda e: (e["journal"], e["id"]),
                                        reverse=sort.startswith("-"))]
    for limit in (1, 2, 3, 4, 50):
        ids, totals = _walk(books, query, limit)
        assert ids == expected, limit
        assert totals == {len(expected)}
    if filters == "":
        assert len({e["journal"] for e in everything}) >= 4  # the pages cross journals
    # an offset past the end: nothing, and still the total
    beyond = books.books.get(f"/journal-entries?{query}&offset={len(expected) + 3}").json
    assert beyond == {"items": [], "total": len(expected)}


def test_the_page_shows_the_same_entries_and_total(books, entries, login, monkeypatch):
    monkeypatch.setattr(views, "PER_PAGE", 2)
    browser = login("bookkeeper")
    for query in ("account=512000", "sort=journal", "sort=-journal", "account=512000&sort=journal"):
        api = books.books.get(f"/journal-entries?{query}&limit=500").json
        shown = []
        for number in range(1, len(api["items"]) // 2 + 2):
            html = browser.get(f"/accounting/entries?{query}&page={number}").get_data(as_text=True)
            assert f"{api['total']} records" in html
            shown += [int(i) for i in re.findall(r'href="/accounting/entries/(\d+)"', html)]
        assert shown == [e["id"] for e in api["items"]], query
