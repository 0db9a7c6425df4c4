"""A local HTTP receiver (http.server in a thread, random port) and helpers for the webhooks tests."""
from __future__ import annotations

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Receiver:
    """Records each POST (headers, body) and answers with the next status of ``statuses`` (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def payloads(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(app):
    """A receiver on 127.0.0.1, which webhooks refuse unless allow-listed: the allow-list names it, as
    KONTOR_WEBHOOK_ALLOW=127.0.0.1 would."""
    app.config["WEBHOOK_ALLOW"] = "127.0.0.1"
    made = Receiver()
    yield made
    made.close()


class Office:
    def __init__(self, api):
        self.admin = api("admin")
        self.a = api("back_office")
        taxes = self.a.get("/taxes").json["items"]
        self.tax_id = next(t["id"] for t in taxes if Decimal(t["rate"]) == 0)
        self.partner_id = self.a.post("/partners", json={"name": "Hook & Co"}).json["id"]

    def endpoint(self, url: str, events: list[str]) -> dict:
        r = self.admin.post("/webhooks", json={"url": url, "events": events})
        assert r.status_code == 201, r.json
        return r.json

    def invoice(self, total: str = "100.00", post: bool = True) -> dict:
        r = self.a.post("/invoices", json={"partner_id": self.partner_id, "lines": [
            {"description": "Repair", "quantity": "1", "unit_price": total, "tax_id": self.tax_id}]})
        assert r.status_code == 201, r.json
        if post:
            r = self.a.post(f"/invoices/{r.json['id']}/post")
        return r


@pytest.fixture
def office(api):
    return Office(api)
