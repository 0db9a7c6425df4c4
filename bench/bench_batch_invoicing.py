"""Batch invoicing through the real command line, on a fresh database per size:

    python run.py demo --orders N                              (timed too: target < 60 s at N = 100,000)
    python run.py service-orders invoice --all-done --post     (wall time incl. start-up, peak RSS)
    python run.py ledger verify                                (the entries it made really chain)

    .venv/bin/python bench/bench_batch_invoicing.py [N ...]    default 10000 50000
    .venv/bin/python bench/bench_batch_invoicing.py --repeat 3 10000     three fresh runs: the spread
    .venv/bin/python bench/bench_batch_invoicing.py --demo-only 100000   only `demo --orders N`
    KONTOR_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench  for PostgreSQL

Peak memory is measured per command in a wrapper process (resource.getrusage(RUSAGE_CHILDREN).ru_maxrss),
so each figure is that command's own peak.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from common import ROOT, database_url, print_rows, row

PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
WRAPPER = ("import json, resource, subprocess, sys, time; t = time.perf_counter(); "
           "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
           "print(json.dumps({'rc': p.returncode, 'out': p.stdout[-2000:], 'err': p.stderr[-2000:], "
           "'seconds': time.perf_counter() - t, "
           "'rss_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))")


def run(args: list[str], url: str) -> dict:
    env = dict(os.environ, KONTOR_DATABASE_URL=url)
    out = subprocess.run([PY, "-c", WRAPPER, PY, "run.py", *args], capture_output=True, text=True, env=env,
                         cwd=ROOT, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise SystemExit(f"run.py {' '.join(args)} failed:\n{result['err']}")
    return result


def measure(n: int) -> list[dict]:
    url = database_url(f"batch_{n}")
    run(["init"], url)
    demo = run(["demo", "--orders", str(n)], url)
    invoiced = run(["service-orders", "invoice", "--all-done", "--post"], url)
    verify = run(["ledger", "verify"], url)
    summary = invoiced["out"].strip().splitlines()[-1]
    rate = n / invoiced["seconds"]
    return [
        row(f"demo --orders {n}", f"{demo['seconds']:.1f} s, peak {demo['rss_mb']:.0f} MB", "100,000 < 60 s"),
        row(f"invoice --all-done --post, {n} orders",
            f"{invoiced['seconds']:.1f} s ({rate:,.0f} invoices/s), peak {invoiced['rss_mb']:.0f} MB; {summary}",
            "10,000 < 10 s, < 300 MB, flat"),
        row(f"ledger verify after {n}", f"{verify['seconds']:.1f} s: {verify['out'].strip()}", "valid chain"),
    ]


def measure_demo(n: int) -> list[dict]:
    url = database_url(f"demo_{n}")
    run(["init"], url)
    demo = run(["demo", "--orders", str(n)], url)
    return [row(f"demo --orders {n}", f"{demo['seconds']:.1f} s, peak {demo['rss_mb']:.0f} MB", "100,000 < 60 s")]


def main(sizes: list[int] | None = None, repeat: int = 1, demo_only: bool = False) -> list[dict]:
    rows = []
    for n in sizes or [10000, 50000]:
        for _ in range(repeat):
            rows += measure_demo(n) if demo_only else measure(n)
    return rows


if __name__ == "__main__":
    args = sys.argv[1:]
    repeat = 1
    if "--repeat" in args:
        at = args.index("--repeat")
        repeat = int(args[at + 1])
        del args[at:at + 2]
    demo_only = "--demo-only" in args
    sizes = [int(a) for a in args if a != "--demo-only"]
    print_rows(main(sizes or None, repeat=repeat, demo_only=demo_only))
