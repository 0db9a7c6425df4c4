"""Run every bench and print one table. ``make bench``; set KONTOR_BENCH_DATABASE_URL for PostgreSQL.

    .venv/bin/python bench/run_all.py          quick: batch invoicing at 2,000 orders, 300 API postings
    .venv/bin/python bench/run_all.py --full   the sizes of docs/performance.md (10,000 and 50,000 orders)
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import print_rows  # noqa: E402

if __name__ == "__main__":
    full = "--full" in sys.argv[1:]
    import bench_batch_invoicing
    import bench_post_api
    rows = []
    rows += bench_post_api.main(300)
    rows += bench_batch_invoicing.main([10000, 50000] if full else [2000])
    print()
    print_rows(rows)
