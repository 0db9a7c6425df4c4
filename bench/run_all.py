"""Run every bench and print one table. ``make bench``; set KONTOR_BENCH_DATABASE_URL for PostgreSQL."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import print_rows  # noqa: E402

BENCHES = ["bench_post_api"]

if __name__ == "__main__":
    rows = []
    for name in BENCHES:
        rows.extend(importlib.import_module(name).main())
    print()
    print_rows(rows)
