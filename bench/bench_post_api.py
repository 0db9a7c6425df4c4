"""Posting one invoice through the API (post, number, journal entry, hash): latency per request, in-process (Flask's
test client) and over real HTTP against gunicorn on 127.0.0.1, one request at a time: first on a new connection
each (as a script calling curl would), then on one keep-alive connection (as an API client with a session would).
Over HTTP it also prints the gunicorn workers' CPU per posting (from /proc), which the machine's load hardly moves.

    .venv/bin/python bench/bench_post_api.py [N]          default 300 postings each way
    KONTOR_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench   for PostgreSQL
    KONTOR_BENCH_HTTP=0                                   in-process only

Each invoice has two lines (a product and a free line, both taxed); the series' first posting (which creates its
counters) is not timed. Figures: p50, p95, max, standard deviation, n; the machine's load is printed with them.
"""
from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time

from common import ROOT, fresh_app, print_rows, row, summary_ms


def load() -> str:
    return "load %.2f %.2f %.2f" % os.getloadavg()


def _drafts(app, n: int) -> tuple[list[int], str]:
    from addons.invoicing import services
    from core.extensions import db
    from core.partners import create_partner
    from core.security import create_token, create_user
    with app.app_context():
        partner = create_partner(name="Bench SA")
        tax = services.create_tax("VAT 20", "20")
        product = services.save_product(None, code="B1", name="Labour", type="labour", unit_price="65.00",
                                        tax_id=tax.id)
        ids = [services.create_invoice(partner.id, lines=[
            {"product_id": product.id, "quantity": "2"}, {"description": "Part", "quantity": "3",
                                                         "unit_price": "12.40", "tax_id": tax.id}]).id
               for _ in range(n)]
        token = create_token(create_user("bench", "admin", "orchard-quietly-41"))
        db.session.commit()
    return ids, token


def in_process(app, ids: list[int], token: str) -> list[float]:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    samples = []
    for invoice_id in ids:
        start = time.perf_counter()
        response = client.post(f"/api/v1/invoices/{invoice_id}/post", headers=headers)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, response.get_data(as_text=True)
    return samples


WARM_UP = 6  # untimed postings over HTTP first: each worker compiles its statements on its first requests


def over_http(url: str, ids: list[int], token: str) -> dict[str, tuple[list[float], float]]:
    """gunicorn -w 2 on a free port of 127.0.0.1, one POST at a time: the first WARM_UP ids untimed, then half the
    rest on a new connection each, the other half on one keep-alive connection. Returns, per way, the latencies
    and the workers' CPU milliseconds per posting."""
    from bench_web_throughput import GUNICORN, children, cpu_seconds, free_port, stop, wait_ready
    port = free_port()
    env = dict(os.environ, KONTOR_DATABASE_URL=url, KONTOR_SECRET_KEY="bench-post-api")
    server = subprocess.Popen([str(GUNICORN), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                               "core.app:create_app()"], cwd=ROOT, env=env)
    headers = {"Authorization": f"Bearer {token}", "Content-Length": "0"}

    def post(conn, invoice_id) -> float:
        start = time.perf_counter()
        conn.request("POST", f"/api/v1/invoices/{invoice_id}/post", headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - start
        assert response.status == 200, body[:500]
        return elapsed

    results = {}
    try:
        wait_ready(f"http://127.0.0.1:{port}", token, server)
        workers = children(server.pid)
        for invoice_id in ids[:WARM_UP]:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            post(conn, invoice_id)
            conn.close()
        rest = ids[WARM_UP:]
        fresh, kept = rest[:len(rest) // 2], rest[len(rest) // 2:]
        cpu, samples = cpu_seconds(workers), []
        for invoice_id in fresh:
            start = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            post(conn, invoice_id)
            conn.close()
            samples.append(time.perf_counter() - start)  # connect and close included
        results["new connection each"] = (samples, (cpu_seconds(workers) - cpu) / len(fresh) * 1000)
        cpu, conn = cpu_seconds(workers), http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        samples = [post(conn, invoice_id) for invoice_id in kept]
        conn.close()
        results["keep-alive"] = (samples, (cpu_seconds(workers) - cpu) / len(kept) * 1000)
    finally:
        stop(server)
    return results


def main(n: int = 300) -> list[dict]:
    app, url = fresh_app("post_api")
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    http_too = os.environ.get("KONTOR_BENCH_HTTP", "1") != "0"
    ids, token = _drafts(app, 3 * n + 1 + WARM_UP if http_too else n + 1)
    in_process(app, ids[:1], token)  # the series' first number creates its counter rows: not timed
    before, cpu = load(), time.process_time()
    samples = in_process(app, ids[1:n + 1], token)
    cpu = (time.process_time() - cpu) / n * 1000  # this process's CPU: hardly moved by what else runs
    rows = [row(f"post one invoice via API, in-process, {database}",
                f"{summary_ms(samples)}; CPU {cpu:.1f} ms/posting; {before}", "p95 < 20 ms")]
    if http_too:
        with app.app_context():
            from core.extensions import db
            db.session.remove()
            db.engine.dispose()  # the workers write now: no connection of ours holds anything
        before = load()
        for way, (samples, cpu) in over_http(url, ids[n + 1:], token).items():
            rows.append(row(f"post one invoice via API, HTTP (gunicorn -w 2, {way}), {database}",
                            f"{summary_ms(samples)}; workers' CPU {cpu:.1f} ms/posting; {before}", "p95 < 20 ms"))
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "bench"))
    print_rows(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
