"""Run every bench and print one table. ``make bench``; set KONTOR_BENCH_DATABASE_URL for PostgreSQL.

    .venv/bin/python bench/run_all.py          quick (a few minutes): 300 API postings, web throughput (wrk),
                                               batch invoicing of 2,000 orders, lists and reports at small sizes
    .venv/bin/python bench/run_all.py --full   the sizes of docs/performance.md: 10,000 and 50,000 orders,
                                               demo of 100,000, lists over 100,000 invoices, reports over
                                               1,000,000 journal lines (their databases are built once, ~20 min
                                               each, and kept in bench/out/)
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import print_rows, row  # noqa: E402

if __name__ == "__main__":
    full = "--full" in sys.argv[1:]
    import bench_batch_invoicing
    import bench_lists
    import bench_post_api
    import bench_reports
    import bench_web_throughput
    rows = []
    rows += bench_post_api.main(300)
    if shutil.which("wrk"):
        rows += bench_web_throughput.main()
    else:
        rows.append(row("web throughput", "skipped: wrk is not installed (apt-get install -y wrk)", ">= 500 req/s"))
    rows += bench_batch_invoicing.main([10000, 50000] if full else [2000])
    if full:
        rows += bench_batch_invoicing.main([100000], demo_only=True)
    rows += bench_lists.main([100000] if full else [5000])
    rows += bench_reports.main([1000000] if full else [50000])
    print()
    print_rows(rows)
