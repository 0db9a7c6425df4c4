"""Numbering documents: gapless 1..N per series and year, chronological, never lost to a rollback, and never
given twice when several people post at the same moment."""
from __future__ import annotations

import multiprocessing
import os
import threading
from datetime import date

import pytest

from core.extensions import db
from core.sequences import NotChronological, format_number, peek, take

PG = bool(os.environ.get("KONTOR_TEST_DATABASE_URL"))


def take_committed(code: str, on: date) -> int:
    number = take(code, on)
    db.session.commit()
    return number


def test_numbers_run_from_one_without_gaps(ctx):
    numbers = [take_committed("INV", date(2026, 3, day)) for day in range(1, 21)]
    assert numbers == list(range(1, 21))
    assert peek("INV", 2026) == 21


def test_each_series_and_each_year_has_its_own_counter(ctx):
    assert take_committed("INV", date(2025, 12, 30)) == 1
    assert take_committed("INV", date(2025, 12, 31)) == 2
    assert take_committed("INV", date(2026, 1, 1)) == 1  # a new year starts again at 1
    assert take_committed("RINV", date(2026, 1, 1)) == 1  # credit notes: their own series
    assert take_committed("INV", date(2026, 1, 2)) == 2
    assert take_committed("INV", date(2025, 12, 31)) == 3  # last year's series goes on where it was
    assert take_committed("RINV", date(2026, 1, 5)) == 2


def test_a_rolled_back_transaction_does_not_use_up_its_number(ctx):
    assert take_committed("INV", date(2026, 5, 1)) == 1
    assert take("INV", date(2026, 5, 2)) == 2
    db.session.rollback()  # the posting was refused after taking the number
    assert peek("INV", 2026) == 2
    assert take_committed("INV", date(2026, 5, 2)) == 2
    assert take_committed("INV", date(2026, 5, 3)) == 3


def test_the_first_number_of_a_series_is_not_kept_either_when_rolled_back(ctx):
    assert take("NEW", date(2026, 1, 10)) == 1
    db.session.rollback()
    assert take_committed("NEW", date(2026, 1, 5)) == 1  # no earlier date remembered from the rolled-back one


def test_an_earlier_date_than_the_last_numbered_one_is_refused(ctx):
    take_committed("INV", date(2026, 6, 10))
    take_committed("INV", date(2026, 6, 10))  # the same day is fine
    with pytest.raises(NotChronological) as refused:
        take("INV", date(2026, 6, 9))
    assert refused.value.status == 409 and refused.value.code == "not_chronological"
    assert "2026-06-10" in refused.value.message
    db.session.rollback()
    assert take_committed("INV", date(2026, 6, 11)) == 3  # the refusal used nothing


def test_several_numbers_at_once_are_consecutive(ctx):
    assert take("BATCH", date(2026, 2, 1), count=5) == 1
    assert take("BATCH", date(2026, 2, 1)) == 6
    db.session.commit()


def test_numbers_are_formatted_with_prefix_year_and_padding():
    assert format_number("INV", 2026, 7) == "INV/2026/00007"
    assert format_number("RINV", 2026, 123456, width=3) == "RINV/2026/123456"


# -- several posters at the same moment ---------------------------------------------------------------------
PER_WORKER = 50


def _take_in_own_app(url: str, code: str, barrier, results) -> None:
    """One poster: its own app and connection; each number in its own transaction."""
    from core.app import create_app
    from core.config import TestConfig

    app = create_app(TestConfig(url))
    mine: list[int] = []
    try:
        with app.app_context():
            barrier.wait(timeout=120)
            for _ in range(PER_WORKER):
                mine.append(take(code, date(2026, 4, 1)))
                db.session.commit()
            db.engine.dispose()
    finally:
        results.put(mine)


@pytest.mark.postgres
@pytest.mark.skipif(not PG, reason="real processes against one server: needs KONTOR_TEST_DATABASE_URL (PostgreSQL)")
def test_eight_processes_posting_at_once_get_exactly_one_to_four_hundred(database_url):
    context = multiprocessing.get_context("spawn")
    workers = 8
    barrier, results = context.Barrier(workers), context.Queue()
    processes = [context.Process(target=_take_in_own_app, args=(database_url, "INV", barrier, results))
                 for _ in range(workers)]
    for process in processes:
        process.start()
    taken = [results.get(timeout=240) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    numbers = sorted(n for mine in taken for n in mine)
    assert numbers == list(range(1, workers * PER_WORKER + 1))
    assert all(mine == sorted(mine) for mine in taken)  # each poster sees its own numbers rise


def test_four_threads_posting_at_once_get_exactly_one_to_two_hundred(app):
    workers = 4
    barrier = threading.Barrier(workers)
    taken: list[list[int]] = [[] for _ in range(workers)]
    errors: list[BaseException] = []

    def poster(slot: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=60)
                for _ in range(PER_WORKER):
                    taken[slot].append(take("INV", date(2026, 4, 1)))
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=poster, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    numbers = sorted(n for mine in taken for n in mine)
    assert numbers == list(range(1, workers * PER_WORKER + 1))
