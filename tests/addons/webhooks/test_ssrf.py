"""Webhooks cannot be aimed inside the network (issue 16, item 2): internal hosts in every spelling are refused at
registration (API 422 naming url, and the page) and again at delivery after the name is resolved, the socket goes
to the checked address, KONTOR_WEBHOOK_ALLOW lets a deliberate internal receiver through, one deadline covers the
whole delivery, a dead worker's row is taken again after a short lease, and the log cannot tell open ports from
closed ones."""
from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from addons.webhooks import egress, worker
from addons.webhooks.models import Delivery, Endpoint
from core.app import create_app
from core.config import TestConfig
from core.extensions import db
from core.models import utcnow

REAL_GETADDRINFO = socket.getaddrinfo
PUBLIC = "93.184.216.34"  # a public address; no test connects to it

# Each is, or reads as, an address a webhook must never reach: loopback in every spelling inet_aton accepts, the
# unspecified address, IPv6 loopback and IPv4-in-IPv6 forms, local names, cloud metadata, RFC 1918, ULA, link-local,
# multicast, broadcast, shared (CGNAT) and reserved ranges.
INTERNAL_HOSTS = [
    "127.0.0.1", "127.1", "2130706433", "0x7f000001", "0x7F.1", "0177.0.0.1", "127.0.0.1.", "127.255.255.254",
    "0.0.0.0", "0", "[::1]", "[::]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::ffff:10.0.0.1]",
    "[64:ff9b::7f00:1]", "[2002:7f00:1::]", "[::127.0.0.1]",
    "localhost", "LOCALHOST.", "api.localhost", "ip6-localhost",
    "169.254.169.254", "10.0.0.1", "10.255.255.255", "012.0.0.1", "172.16.0.1", "172.31.255.254", "192.168.1.1",
    "[fc00::1]", "[fd12:3456:789a::1]", "[fe80::1]", "[fe80::1%25eth0]", "[fec0::1]",
    "224.0.0.1", "239.255.255.250", "[ff02::1]", "255.255.255.255", "100.64.0.1", "198.18.0.1", "240.0.0.1",
]


def fake_dns(monkeypatch, table: dict) -> list[str]:
    """``socket.getaddrinfo`` answering the names in ``table`` (a list of addresses, or a callable returning one);
    other hosts (numeric ones) go to the real resolver. Returns the names asked, in order."""
    asked = []

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        asked.append(host)
        answer = table.get(host)
        if answer is None:
            return REAL_GETADDRINFO(host, port, family, type, proto, flags)
        answer = answer() if callable(answer) else answer
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0)) if ":" in a else
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answer]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def _register(office, url):
    return office.admin.post("/webhooks", json={"url": url, "events": ["invoice.posted"]})


def _stored_endpoint(app, url: str) -> int:
    """An endpoint row written as it is, without the registration check (one registered before this rule, or
    whose name has since changed): the delivery must check it by itself."""
    with app.app_context():
        endpoint = Endpoint(url=url, events="invoice.posted", secret="whsec_test")
        db.session.add(endpoint)
        db.session.commit()
        return endpoint.id


def _deliveries(app) -> list[Delivery]:
    with app.app_context():
        rows = list(db.session.scalars(select(Delivery).order_by(Delivery.id)))
        db.session.expunge_all()
        return rows


def _run(app, now=None) -> dict:
    with app.app_context():
        return worker.run_once(now=now)


class Listener:
    """A bare listening socket on 127.0.0.1: tells whether anyone connected at all."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def connected(self) -> bool:
        try:
            conn, _ = self.sock.accept()
        except BlockingIOError:
            return False
        conn.close()
        return True

    def close(self):
        self.sock.close()


@pytest.fixture
def listener():
    made = Listener()
    yield made
    made.close()


# -- registration ------------------------------------------------------------------------------------------------
def test_every_spelling_of_an_internal_host_is_refused_at_registration(office):
    """One app for the whole list (each case is a request): every host gets a 422 naming url, none is stored."""
    wrong = {}
    for host in INTERNAL_HOSTS:
        r = _register(office, f"http://{host}:8080/hooks")
        error = (r.json or {}).get("error", {})
        if r.status_code != 422 or error.get("code") != "url_not_allowed" or "url" not in error.get("fields", {}) \
                or "not a public address" not in error.get("message", ""):
            wrong[host] = (r.status_code, r.json)
    assert wrong == {}
    assert office.admin.get("/webhooks").json["total"] == 0


@pytest.mark.parametrize("host", INTERNAL_HOSTS)
def test_the_check_itself_refuses_each_spelling(host):
    with pytest.raises(egress.Refused, match="not a public address"):
        egress.check_registration(f"https://{host}/x", egress.settings({}))


@pytest.mark.parametrize("url", ["https://user:pass@hooks.example/in", "https://user@hooks.example/in",
                                 "https://:@hooks.example/in", "http://hooks.example@127.0.0.1/",
                                 "http://hooks.example%40evil@hooks.example/"])
def test_credentials_in_the_url_are_refused(office, url):
    r = _register(office, url)
    assert r.status_code == 422 and "url" in r.json["error"]["fields"], (url, r.json)
    assert "user name or password" in r.json["error"]["message"]


def test_a_name_that_resolves_inside_is_refused_every_address_counts(office, monkeypatch):
    fake_dns(monkeypatch, {"intranet.example": ["10.1.2.3"], "mixed.example": [PUBLIC, "127.0.0.1"],
                           "v6.example": ["fd00::5"], "fine.example": [PUBLIC, "2606:4700::1111"]})
    for name in ("intranet.example", "mixed.example", "v6.example"):
        r = _register(office, f"https://{name}/hooks")
        assert r.status_code == 422 and "url" in r.json["error"]["fields"], (name, r.json)
    assert _register(office, "https://fine.example/hooks").status_code == 201
    assert _register(office, f"https://{PUBLIC}/hooks").status_code == 201
    assert _register(office, "https://[2606:4700::1111]/hooks").status_code == 201
    # a name that does not resolve yet is accepted: the delivery resolves and checks it
    assert _register(office, "https://not-yet.example/hooks").status_code == 201


def test_the_page_refuses_an_internal_url_with_its_message(login):
    admin = login("admin")
    r = admin.post("/webhooks", data={"url": "http://169.254.169.254/latest/meta-data/",
                                      "events": ["invoice.posted"]})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "not a public address" in page and "shown only once" not in page
    with admin.client.application.app_context():
        assert db.session.query(Endpoint).count() == 0


@pytest.mark.parametrize("url", ["http://hooks.example:0/", "http://hooks.example/\x00", "ftp://hooks.example/",
                                 "http://user@hooks.example/", "http:///x", "http://[::1/"])
def test_a_stored_url_the_delivery_cannot_use_is_refused_not_sent_elsewhere(url):
    """What reaches the worker from an older row is parsed again: port 0 is not read as port 80, a NUL is not
    handed to http.client (which raises ValueError)."""
    with pytest.raises(egress.Refused):
        egress.parse(url)


def test_the_parts_a_delivery_uses():
    assert egress.parse("HTTPS://Hooks.Example./in?x=1") == egress.Target("https", "hooks.example", 443, "/in?x=1")
    assert egress.parse("http://bücher.example:8080") == egress.Target("http", "xn--bcher-kva.example", 8080, "/")
    assert egress.settings({}).timeout == 10.0  # the default deadline for a whole delivery


# -- delivery ----------------------------------------------------------------------------------------------------
def test_internal_urls_already_stored_are_refused_at_delivery_before_connecting(app, office, listener):
    """Every spelling again, as rows written before the rule (or by hand): the worker checks by itself, and no
    connection reaches the listening port (which the loopback spellings would otherwise reach)."""
    for host in INTERNAL_HOSTS:
        _stored_endpoint(app, f"http://{host}:{listener.port}/hooks")
    office.invoice()
    assert _run(app) == {"delivered": 0, "retrying": len(INTERNAL_HOSTS), "failed": 0}
    rows = _deliveries(app)
    assert len(rows) == len(INTERNAL_HOSTS)
    for row in rows:
        assert row.state == "pending" and row.response_code is None
        assert row.last_error.startswith("Refused: ") and "not a public address" in row.last_error, row.last_error
    assert not listener.connected()  # nothing reached the port


def test_a_name_that_later_resolves_to_loopback_is_refused_at_delivery(app, office, receiver, monkeypatch):
    app.config["WEBHOOK_ALLOW"] = ""  # the receiver on 127.0.0.1 is NOT allowed here
    answers = {"hooks.partner.example": [PUBLIC]}
    fake_dns(monkeypatch, {"hooks.partner.example": lambda: answers["hooks.partner.example"]})
    port = receiver.server.server_address[1]
    assert _register(office, f"http://hooks.partner.example:{port}/hooks").status_code == 201
    answers["hooks.partner.example"] = ["127.0.0.1"]  # the DNS answer changes after registration (rebinding)
    office.invoice()
    assert _run(app)["delivered"] == 0
    [row] = _deliveries(app)
    assert "hooks.partner.example is not a public address" in row.last_error and receiver.requests == []


def test_the_socket_goes_to_the_address_checked_no_second_lookup(app, office, receiver, monkeypatch):
    """The one answer checked is the one connected to: a resolver that would answer differently the second time
    (an internal address not allowed) is asked only once per delivery."""
    app.config["WEBHOOK_ALLOW"] = "127.0.0.1"
    calls = {"n": 0}

    def answer():
        calls["n"] += 1
        return ["127.0.0.1"] if calls["n"] % 2 else ["10.255.255.1"]

    asked = fake_dns(monkeypatch, {"hooks.internal.example": answer})
    port = receiver.server.server_address[1]
    assert _register(office, f"http://hooks.internal.example:{port}/hooks").status_code == 201  # call 1
    calls["n"] = 0
    asked.clear()
    office.invoice()
    assert _run(app)["delivered"] == 1
    assert asked == ["hooks.internal.example"]
    [request] = receiver.requests
    assert request["headers"]["Host"] == f"hooks.internal.example:{port}"  # the name, not the address


def test_the_log_does_not_tell_an_open_internal_port_from_a_closed_one(app, office, listener):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    _stored_endpoint(app, f"http://127.0.0.1:{listener.port}/x")
    _stored_endpoint(app, f"http://127.0.0.1:{closed_port}/x")
    office.invoice()
    _run(app)
    first, second = _deliveries(app)
    assert first.last_error == second.last_error and first.response_code is None is second.response_code
    assert str(listener.port) not in first.last_error and not listener.connected()


# -- the allow-list ----------------------------------------------------------------------------------------------
def test_the_allow_list_lets_a_deliberate_internal_receiver_through(app, office, monkeypatch):
    from tests.addons.webhooks.conftest import Receiver
    made = Receiver()
    try:
        port = made.server.server_address[1]
        app.config["WEBHOOK_ALLOW"] = ""
        assert _register(office, made.url).status_code == 422
        app.config["WEBHOOK_ALLOW"] = "hooks.corp.example, 127.0.0.0/8"
        assert _register(office, made.url).status_code == 201
        fake_dns(monkeypatch, {"hooks.corp.example": ["127.0.0.1"], "other.corp.example": ["127.0.0.1"]})
        app.config["WEBHOOK_ALLOW"] = "hooks.corp.example"  # by name: its addresses are trusted
        assert _register(office, f"http://hooks.corp.example:{port}/by-name").status_code == 201
        assert _register(office, f"http://other.corp.example:{port}/x").status_code == 422
        assert _register(office, f"http://0.0.0.0:{port}/x").status_code == 422  # never a receiver
        office.invoice()
        app.config["WEBHOOK_ALLOW"] = "127.0.0.1,hooks.corp.example"
        assert _run(app) == {"delivered": 2, "retrying": 0, "failed": 0}
        assert sorted(r["path"] for r in made.requests) == ["/by-name", "/hooks"]
        # taken off the list: the delivery refuses again
        app.config["WEBHOOK_ALLOW"] = ""
        office.invoice()
        assert _run(app) == {"delivered": 0, "retrying": 2, "failed": 0} and len(made.requests) == 2
    finally:
        made.close()


@pytest.mark.parametrize("setting, value", [("WEBHOOK_ALLOW", "10.0.0.0/33"), ("WEBHOOK_ALLOW", "hooks/internal"),
                                            ("WEBHOOK_TIMEOUT", "soon"), ("WEBHOOK_TIMEOUT", "0")])
def test_a_bad_setting_stops_start_up_with_its_name(database_url, setting, value):
    config = TestConfig(database_url)
    setattr(config, setting, value)
    with pytest.raises(ValueError, match=f"KONTOR_{setting}"):
        create_app(config)


# -- one deadline for the whole delivery -------------------------------------------------------------------------
class Dripper:
    """A receiver that answers 200 one byte at a time, ``every`` seconds apart (until the client goes away)."""

    RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"

    def __init__(self, every: float):
        self.every, self.stop = every, threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(5)
            conn.recv(65536)
            for byte in self.RESPONSE:
                if self.stop.wait(self.every):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return  # the worker hung up: what we want

    def close(self):
        self.stop.set()
        self.sock.close()
        self.thread.join(5)


def test_a_receiver_dripping_bytes_is_cut_off_at_the_deadline_and_counted_failed(app, office):
    app.config["WEBHOOK_ALLOW"] = "127.0.0.1"
    app.config["WEBHOOK_TIMEOUT"] = "1.5"  # the whole delivery; each byte comes well within any per-read timeout
    dripper = Dripper(every=0.3)           # the full answer would take 60 × 0.3 = 18 s
    try:
        assert _register(office, f"http://127.0.0.1:{dripper.port}/slow").status_code == 201
        office.invoice()
        with app.app_context():
            db.session.execute(update(Delivery).values(attempts=worker.MAX_ATTEMPTS - 1))
            db.session.commit()
        started = time.monotonic()
        counts = _run(app)
        took = time.monotonic() - started
    finally:
        dripper.close()
    assert counts == {"delivered": 0, "retrying": 0, "failed": 1}
    assert 1.4 < took < 4, took
    [row] = _deliveries(app)
    assert row.state == "failed" and row.delivered_at is None
    assert "TimeoutError" in row.last_error and "longer than 1.5 s" in row.last_error, row.last_error


# -- a dead worker's rows ----------------------------------------------------------------------------------------
def test_a_row_claimed_by_a_worker_that_died_is_sent_after_a_short_lease(app, office, receiver):
    office.endpoint(receiver.url, ["invoice.posted"])
    office.invoice()
    t0 = utcnow()
    with app.app_context():
        assert len(worker.claim(t0, 1)) == 1  # ... and the worker dies before sending
    # while a live worker could still be sending (its whole deadline, 10 s), nobody else takes the row
    assert _run(app, t0 + timedelta(seconds=10)) == {"delivered": 0, "retrying": 0, "failed": 0}
    # soon after, another worker does: 10 s deadline + 20 s margin, not five minutes
    assert _run(app, t0 + timedelta(seconds=31)) == {"delivered": 1, "retrying": 0, "failed": 0}
    assert len(receiver.requests) == 1


def test_a_long_pass_leases_each_row_when_it_is_sent(app, office, receiver, monkeypatch):
    """Rows are claimed one at a time: the tenth row of a slow pass is not left with a lease that ran out while
    the first nine were sent (another worker would send it twice)."""
    office.endpoint(receiver.url, ["invoice.posted"])
    for _ in range(3):
        office.invoice()
    leases = []
    real_deliver = worker.deliver

    def deliver(delivery, now):
        leases.append((delivery.next_attempt_at.replace(tzinfo=now.tzinfo) - now).total_seconds())
        real_deliver(delivery, now)

    monkeypatch.setattr(worker, "deliver", deliver)
    assert _run(app)["delivered"] == 3
    assert len(leases) == 3 and all(29 < lease <= 30.5 for lease in leases), leases


# -- TLS: the checked address, the name's certificate ------------------------------------------------------------
def _certificates(folder):
    """A throwaway CA and a certificate for hooks.tls.example signed by it (openssl command line)."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=Kontor test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "site.key", "-out", "site.csr",
        "-subj", "/CN=hooks.tls.example")
    (folder / "ext.cnf").write_text("subjectAltName=DNS:hooks.tls.example\n")
    run("x509", "-req", "-in", "site.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "site.pem", "-days", "2", "-extfile", "ext.cnf")
    return folder / "ca.pem", folder / "site.pem", folder / "site.key"


def test_https_connects_to_the_checked_address_and_verifies_the_name(app, office, monkeypatch, tmp_path):
    ca, cert, key = _certificates(tmp_path)
    seen = {"sni": [], "requests": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen["requests"].append(self.headers["Host"])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: seen["sni"].append(name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        app.config["WEBHOOK_ALLOW"] = "127.0.0.1"
        fake_dns(monkeypatch, {"hooks.tls.example": ["127.0.0.1"], "wrong-name.example": ["127.0.0.1"]})
        assert _register(office, f"https://hooks.tls.example:{port}/h").status_code == 201
        assert _register(office, f"https://wrong-name.example:{port}/h").status_code == 201
        office.invoice()
        # the system's trust store does not know the test CA: verification is on, nothing counts as delivered
        assert _run(app) == {"delivered": 0, "retrying": 2, "failed": 0}
        assert all("CERTIFICATE_VERIFY_FAILED" in row.last_error for row in _deliveries(app))
        trusting = ssl.create_default_context(cafile=str(ca))
        monkeypatch.setattr(egress, "tls_context", lambda: trusting)
        later = utcnow() + worker.backoff(1) + timedelta(seconds=1)
        assert _run(app, later) == {"delivered": 1, "retrying": 1, "failed": 0}
        good, wrong = _deliveries(app)
        assert good.state == "delivered" and seen["requests"] == [f"hooks.tls.example:{port}"]
        assert "hooks.tls.example" in seen["sni"] and "wrong-name.example" in seen["sni"]
        assert wrong.state == "pending" and "CERTIFICATE_VERIFY_FAILED" in wrong.last_error  # name mismatch
    finally:
        server.shutdown()
        server.server_close()
