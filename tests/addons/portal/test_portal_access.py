"""The access matrix: a customer reaches no back-office page or API (403) and no other customer's document (404);
back-office users do not use the portal."""
from __future__ import annotations

import re

import pytest

PORTAL_PUBLIC = {"portal.shared", "portal.shared_pdf"}
ANYONE = {"core.login", "core.logout", "static", "api-docs.openapi_json"}


def _url(rule) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: "1" if m.group(1).endswith("id") else "x", rule.rule)


def test_customer_gets_403_on_every_back_office_route(app, shop):
    b = shop.browser(shop.alice)
    api = shop.token_client(shop.alice)
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ANYONE | PORTAL_PUBLIC or rule.endpoint.startswith("portal") \
                or rule.endpoint == "core.dashboard":
            continue
        url = _url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if url.startswith("/api/v1"):
                r = api.client.open(url, method=method, json={}, headers=api._headers(None))
            elif method == "GET":
                r = b.get(url)
            else:
                r = b.client.open(url, method=method, data={"csrf_token": b.token()})
            assert r.status_code == 403, f"{method} {url} ({rule.endpoint}) answered {r.status_code}"
            checked += 1
    assert checked > 80


@pytest.fixture
def docs(shop):
    mine = shop.invoice(shop.alice, "100.00")
    theirs = shop.invoice(shop.bob, "200.00")
    return mine, theirs


PAGES = ["/portal/invoices/{id}", "/portal/invoices/{id}/pdf"]
APIS = ["/portal/invoices/{id}"]


def test_another_customers_document_is_not_found_everywhere(shop, docs):
    mine, theirs = docs
    shop.overpay(shop.invoice(shop.alice, "10.00")["id"], "500.00")  # Alice has credit to spend
    b = shop.browser(shop.alice)
    api = shop.token_client(shop.alice)
    for path in PAGES:
        assert b.get(path.format(id=mine["id"])).status_code == 200
        assert b.get(path.format(id=theirs["id"])).status_code == 404
    for path in APIS:
        assert api.get(path.format(id=mine["id"])).status_code == 200
        r = api.get(path.format(id=theirs["id"]))
        assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    r = b.post(f"/portal/invoices/{theirs['id']}/apply-credit", data={"amount": "10.00"})
    assert r.status_code == 404
    r = api.post(f"/portal/invoices/{theirs['id']}/apply-credit", json={"amount": "10.00"})
    assert r.status_code == 404
    assert shop.get(theirs["id"])["amount_due"] == "200.00"  # nothing was applied to Bob's invoice


@pytest.mark.parametrize("role", ["admin", "back_office", "bookkeeper", "technician"])
def test_back_office_roles_do_not_use_the_portal(login, api, role, docs):
    mine, _ = docs
    b = login(role)
    client = api(role)
    status = 403
    assert b.get("/portal").status_code == status
    assert b.get(f"/portal/invoices/{mine['id']}").status_code == status
    assert client.get("/portal/invoices").status_code == status
    assert client.get("/portal/balance").status_code == status
    assert client.post(f"/portal/invoices/{mine['id']}/apply-credit", json={}).status_code == status


def test_anonymous_is_sent_to_login(client, docs):
    mine, _ = docs
    r = client.get("/portal")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert client.get("/api/v1/portal/invoices").status_code == 401
