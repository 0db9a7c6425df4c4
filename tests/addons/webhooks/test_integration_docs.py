"""docs/integrations.md's example client is real: its signature check accepts a real delivery and refuses a
tampered one, and its API client calls a running Kontor (token, JSON, idempotent POST, error codes)."""
from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from addons.webhooks import worker
from core.extensions import db

DOC = Path(__file__).resolve().parents[3] / "docs" / "integrations.md"


@pytest.fixture(scope="module")
def example():
    text = DOC.read_text()
    code = re.search(r"<!-- example-client[^>]*-->\s*```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)
    return namespace


def test_the_documented_signature_check_verifies_a_real_delivery(app, office, receiver, example):
    endpoint = office.endpoint(receiver.url, ["invoice.posted"])
    office.invoice()
    with app.app_context():
        worker.run_once()
    [request] = receiver.requests
    header, body = request["headers"]["Kontor-Signature"], request["body"].encode()
    verify = example["verify_signature"]
    assert verify(endpoint["secret"], header, body)
    assert not verify(endpoint["secret"], header, body.replace(b"invoice.posted", b"invoice.postex"))
    assert not verify("whsec_other", header, body)
    assert not verify(endpoint["secret"], header, body, now=int(header.split(",")[0][2:]) + 3600)  # a replay
    assert not verify(endpoint["secret"], "garbage", body)


@pytest.fixture
def live(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    with app.app_context():
        db.session.remove()


def test_the_documented_client_talks_to_a_running_kontor(live, office, example):
    kontor = example["KontorClient"](live, office.a.token)
    partner = kontor.post("/partners", {"name": "Via the client"})
    assert partner["name"] == "Via the client"
    again = kontor.post("/partners", {"name": "Via the client"}, idempotency_key="k1")
    replay = kontor.post("/partners", {"name": "Via the client"}, idempotency_key="k1")
    assert replay == again and again["id"] != partner["id"]
    assert kontor.get("/partners?limit=500")["total"] == 3  # Hook & Co, and the two created
    with pytest.raises(example["KontorError"]) as refused:
        kontor.post("/partners", {"name": ""})
    assert refused.value.status == 422 and "name" in refused.value.fields
    with pytest.raises(example["KontorError"]) as missing:
        kontor.get("/invoices/999999")
    assert missing.value.status == 404 and missing.value.code == "not_found"
    assert "paths" in example["KontorClient"](live, "no-token").request("GET", "/openapi.json")
