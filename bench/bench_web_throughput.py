"""Web throughput: gunicorn (2 workers) serving GET /api/v1/invoices/{id} to a local load tool (wrk).

    .venv/bin/python bench/bench_web_throughput.py [SECONDS] [INVOICES]     default 15 s, 1,000 posted invoices
    KONTOR_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench   for PostgreSQL
    KONTOR_BENCH_WRK="-t1 -c8"                                                     the load tool's threads/connections

Builds a bench database with INVOICES posted invoices (two lines each) and an admin's API token, starts
``gunicorn -w 2 'core.app:create_app()'`` (worker class and threads from gunicorn.conf.py; KONTOR_BENCH_GUNICORN adds
options, e.g. "-k sync") on a free port of 127.0.0.1 with the database in KONTOR_DATABASE_URL,
waits until it answers, warms it up for 2 s, then runs ``wrk`` for SECONDS against random invoice ids with the bearer
token (a generated Lua script), prints requests/s, latency percentiles and every non-2xx answer or socket error,
and stops gunicorn (SIGTERM, then waits for it).

wrk competes with gunicorn for the machine's cores: keep it small (one thread, 8 connections by default) and
read the figure with the machine's load (printed). wrk comes from Debian: ``apt-get install -y wrk``.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from common import ROOT, fresh_app, print_rows, row

GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
WORKERS = 2
LUA = """
local ids = {%(ids)s}
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer %(token)s"
wrk.headers["Accept"] = "application/json"
math.randomseed(os.time())
request = function()
  return wrk.format(nil, "/api/v1/invoices/" .. ids[math.random(#ids)])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('KONTOR_RESULT {"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, '
    .. '"write": %%d, "status": %%d, "timeout": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d, '
    .. '"mean_us": %%f, "stdev_us": %%f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    latency.stdev))
end
"""


def load() -> str:
    return "load %.2f %.2f %.2f" % os.getloadavg()


def build(invoices: int) -> tuple[str, str, list[int]]:
    """A bench database with ``invoices`` posted invoices; returns (url, token, ids)."""
    app, url = fresh_app("web_throughput")
    from addons.invoicing import services
    from core.extensions import db
    from core.partners import create_partner
    from core.security import create_token, create_user
    with app.app_context():
        partners = [create_partner(name=f"Customer {n}") for n in range(20)]
        tax = services.create_tax("VAT 20", "20")
        product = services.save_product(None, code="B1", name="Labour", type="labour", unit_price="65.00",
                                        tax_id=tax.id)
        drafts = [services.create_invoice(partners[n % len(partners)].id, lines=[
            {"product_id": product.id, "quantity": "2"},
            {"description": "Part", "quantity": "3", "unit_price": "12.40", "tax_id": tax.id}])
            for n in range(invoices)]
        posted, refused = services.post_many(drafts)
        if refused:
            raise SystemExit(f"posting the bench invoices refused: {refused[:3]}")
        ids = [i.id for i in posted]
        token = create_token(create_user("bench", "admin", "orchard-quietly-41"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return url, token, ids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, token: str, server: subprocess.Popen, timeout: float = 60) -> None:
    request = urllib.request.Request(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode} before answering")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = str(exc)  # not listening yet: asked again below, and named if it never answers
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer on {base} within {timeout:.0f} s (last: {last})")


def stop(server: subprocess.Popen) -> None:
    """gunicorn stops cleanly on SIGTERM (workers finish their request); killed if it takes more than 30 s."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes used so far (Linux /proc), to report CPU per request: unlike req/s,
    it hardly depends on what else the machine is doing."""
    total = 0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def run_wrk(base: str, script: str, seconds: int, options: list[str], workers: list[int] | None = None) -> dict:
    before = cpu_seconds(workers or [])
    wrk = subprocess.Popen(["wrk", *options, f"-d{seconds}s", "--timeout", "5s", "-s", script, base],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = wrk.communicate(timeout=seconds + 60)
    worker_cpu = cpu_seconds(workers or []) - before
    out = subprocess.CompletedProcess(wrk.args, wrk.returncode, stdout, stderr)
    if out.returncode != 0:
        raise SystemExit(f"wrk failed ({out.returncode}):\n{out.stderr or out.stdout}")
    line = next((l for l in out.stdout.splitlines() if l.startswith("KONTOR_RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    result = json.loads(line.split(" ", 1)[1])
    non_2xx = next((l for l in out.stdout.splitlines() if "Non-2xx or 3xx responses" in l), "")
    result["non_2xx"] = int(non_2xx.rsplit(":", 1)[1]) if non_2xx else 0
    result["worker_cpu"] = worker_cpu
    return result


def main(seconds: int = 15, invoices: int = 1000) -> list[dict]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (Debian), then run this again.")
    options = shlex.split(os.environ.get("KONTOR_BENCH_WRK", "-t1 -c8"))
    url, token, ids = build(invoices)
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, KONTOR_DATABASE_URL=url, KONTOR_SECRET_KEY="bench-web-throughput")
    extra = shlex.split(os.environ.get("KONTOR_BENCH_GUNICORN", ""))
    server = subprocess.Popen([str(GUNICORN), "-w", str(WORKERS), *extra, "-b", f"127.0.0.1:{port}",
                               "--log-level", "warning", "core.app:create_app()"], cwd=ROOT, env=env)
    try:
        wait_ready(base, token, server)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(LUA % {"ids": ",".join(map(str, ids)), "token": token})
            script = f.name
        try:
            run_wrk(base, script, 2, options)  # warm-up: both workers import, connect and fill their caches
            before = load()
            result = run_wrk(base, script, seconds, options, children(server.pid))
            after = load()
        finally:
            os.unlink(script)
    finally:
        stop(server)
    rate = result["requests"] / (result["duration_us"] / 1e6)
    errors = {k: result[k] for k in ("connect", "read", "write", "timeout") if result[k]}
    ms = {k: result[f"{k}_us"] / 1000 for k in ("p50", "p90", "p99", "max", "mean", "stdev")}
    return [
        row(f"GET /api/v1/invoices/{{id}}, gunicorn -w {WORKERS} {' '.join(extra) or 'gunicorn.conf.py'}, {database}",
            f"{rate:,.0f} req/s over {result['duration_us'] / 1e6:.0f} s ({result['requests']:,} requests, "
            f"wrk {' '.join(options)}, {len(ids):,} posted invoices); latency p50 {ms['p50']:.1f} ms, "
            f"p90 {ms['p90']:.1f} ms, p99 {ms['p99']:.1f} ms, max {ms['max']:.1f} ms, "
            f"stdev {ms['stdev']:.1f} ms; gunicorn workers' CPU {result['worker_cpu'] * 1000 / result['requests']:.2f} ms"
            f"/request; non-2xx {result['non_2xx']}, socket errors "
            f"{sum(errors.values())}{' ' + json.dumps(errors) if errors else ''}; {before} / after {after}",
            ">= 500 req/s, no errors"),
    ]


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print_rows(main(*args))
