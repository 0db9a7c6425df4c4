"""The invoice email carries a signed link that opens that one invoice without a login: expiring, revocable."""
from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta

import pytest


def _link(envelope) -> str:
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_content()
    found = re.search(r"View it online[^:]*: (http://localhost/portal/i/\S+)", text)
    assert found, text
    assert found.group(1) in html
    return found.group(1).replace("http://localhost", "")


@pytest.fixture
def sent(shop, smtp):
    inv = shop.invoice(shop.alice, "100.00")
    r = shop.office.post(f"/invoices/{inv['id']}/send", json={})
    assert r.status_code == 200, r.json
    return inv, _link(smtp.messages[-1])


def test_the_link_opens_the_invoice_and_its_pdf_without_a_login(app, sent, shop):
    inv, link = sent
    anonymous = app.test_client()
    r = anonymous.get(link)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and inv["number"] in page and "100.00" in page and "Alice Plumbing" in page
    assert "Apply my credit" not in page and "All my invoices" not in page  # the link shows, it does not act
    r = anonymous.get(link + "/pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    # only that invoice: another invoice is reachable through no variation of the link
    other = shop.invoice(shop.alice, "5.00")
    assert other["number"] not in page


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
                                    lambda t: "x" + t, lambda t: "garbage"])
def test_a_tampered_link_opens_nothing(app, sent, mangle):
    _, link = sent
    token = link.rsplit("/", 1)[1]
    r = app.test_client().get(f"/portal/i/{mangle(token)}")
    assert r.status_code == 404 and "not valid" in r.get_data(as_text=True)
    assert app.test_client().get(f"/portal/i/{mangle(token)}/pdf").status_code == 404


def test_a_link_expires_after_30_days(app, sent):
    from addons.portal import services
    from core.models import utcnow
    _, link = sent
    token = link.rsplit("/", 1)[1]
    with app.test_request_context():
        assert services.open_link(token, now=utcnow() + timedelta(days=29)).id == sent[0]["id"]
        with pytest.raises(services.LinkRefused) as refused:
            services.open_link(token, now=utcnow() + timedelta(days=31))
        assert refused.value.code == "link_expired"


def test_back_office_revokes_the_links_from_the_invoice_page(app, sent, shop, login):
    inv, link = sent
    office = login("back_office")
    page = office.get(f"/invoices/{inv['id']}").get_data(as_text=True)
    assert "Links sent to the customer" in page and "Revoke links" in page
    r = office.post(f"/invoices/{inv['id']}/portal-links/revoke", follow_redirects=True)
    assert r.status_code == 200 and "1 link to " + inv["number"] + " withdrawn" in r.get_data(as_text=True)
    r = app.test_client().get(link)
    assert r.status_code == 404 and "withdrawn" in r.get_data(as_text=True)
    assert app.test_client().get(link + "/pdf").status_code == 404
    r = office.post(f"/invoices/{inv['id']}/portal-links/revoke", follow_redirects=True)
    assert "no active link" in r.get_data(as_text=True)


def test_sending_again_makes_a_new_link_that_works_after_a_revocation(app, sent, shop, smtp, login):
    inv, old = sent
    login("back_office").post(f"/invoices/{inv['id']}/portal-links/revoke")
    assert shop.office.post(f"/invoices/{inv['id']}/send", json={}).status_code == 200
    new = _link(smtp.messages[-1])
    assert new != old
    assert app.test_client().get(new).status_code == 200
    assert app.test_client().get(old).status_code == 404


@pytest.mark.parametrize("role", ["bookkeeper", "technician", "customer"])
def test_only_back_office_and_admin_revoke(app, sent, login, shop, role):
    inv, link = sent
    browser = shop.browser(shop.alice) if role == "customer" else login(role)
    assert browser.post(f"/invoices/{inv['id']}/portal-links/revoke").status_code == 403
    assert app.test_client().get(link).status_code == 200


def test_revoking_an_unknown_invoice_is_404(login):
    assert login("admin").post("/invoices/999999/portal-links/revoke").status_code == 404


@pytest.mark.parametrize("forged", ["evil.example", "evil.example:8443"])
def test_the_link_is_built_on_the_base_url_never_on_a_forged_host_header(app, shop, smtp, forged):
    """A request's Host header is the sender's choice: the e-mailed link uses KONTOR_BASE_URL whatever it says."""
    app.config["BASE_URL"] = "https://kontor.example.com/erp"
    inv = shop.invoice(shop.alice, "100.00")
    r = shop.office.post(f"/invoices/{inv['id']}/send", json={}, headers={"Host": forged})
    assert r.status_code == 200, r.json
    raw = smtp.messages[-1].content
    assert b"evil.example" not in raw
    message = email.message_from_bytes(raw, policy=email.policy.default)
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    found = re.search(r"View it online[^:]*: (https://kontor\.example\.com/erp/portal/i/\S+)", text)
    assert found, text
    # the link opens the invoice on the server (mounted at /erp behind the proxy; at / in the test client)
    path = found.group(1).removeprefix("https://kontor.example.com/erp")
    assert app.test_client().get(path).status_code == 200


def test_the_base_url_defaults_to_the_development_server(monkeypatch):
    from core.config import base_url
    monkeypatch.delenv("KONTOR_BASE_URL", raising=False)
    assert base_url() == "http://127.0.0.1:5000"
    monkeypatch.setenv("KONTOR_BASE_URL", "https://kontor.example.com/")
    assert base_url() == "https://kontor.example.com"
