"""An admin registers webhook endpoints (page and API): the secret is shown once; bad URLs and events refused."""
from __future__ import annotations

import pytest


def test_register_list_and_delete_through_the_api(office, receiver):
    created = office.endpoint(receiver.url, ["invoice.posted", "payment.registered"])
    assert created["url"] == receiver.url and created["secret"].startswith("whsec_") and len(created["secret"]) > 30
    assert created["events"] == ["invoice.posted", "payment.registered"]
    listed = office.admin.get("/webhooks").json
    assert listed["total"] == 1 and "secret" not in listed["items"][0]
    one = office.admin.get(f"/webhooks/{created['id']}")
    assert one.status_code == 200 and "secret" not in one.json
    assert office.admin.delete(f"/webhooks/{created['id']}").status_code == 204
    assert office.admin.get(f"/webhooks/{created['id']}").status_code == 404
    assert office.admin.get("/webhooks").json["total"] == 0
    assert office.admin.delete(f"/webhooks/{created['id']}").status_code == 404
    # a deleted endpoint gets nothing
    office.invoice()
    from addons.webhooks.models import Delivery
    from core.extensions import db
    with office.admin.client.application.app_context():
        assert db.session.query(Delivery).count() == 0


@pytest.mark.parametrize("url", ["ftp://example.com/x", "javascript:alert(1)", "file:///etc/passwd", "not a url",
                                 "http://", "", "https://exa mple.com/", "http://example.com:99999/"])
def test_only_http_and_https_urls(office, url):
    r = office.admin.post("/webhooks", json={"url": url, "events": ["invoice.posted"]})
    assert r.status_code == 422, (url, r.json)
    assert "url" in r.json["error"]["fields"]
    assert office.admin.get("/webhooks").json["total"] == 0


@pytest.mark.parametrize("events", [[], ["invoice.exploded"], "invoice.posted", [1], None])
def test_events_must_be_known(office, events):
    r = office.admin.post("/webhooks", json={"url": "https://example.com/h", "events": events})
    assert r.status_code == 422 and "events" in r.json["error"]["fields"], r.json


@pytest.mark.parametrize("role", ["back_office", "bookkeeper", "technician"])
def test_only_admins_manage_webhooks(api, login, role):
    client = api(role)
    assert client.get("/webhooks").status_code == 403
    assert client.post("/webhooks", json={"url": "https://example.com", "events": ["invoice.posted"]}).status_code == 403
    assert client.get("/webhooks/deliveries").status_code == 403
    browser = login(role)
    assert browser.get("/webhooks").status_code == 403
    assert browser.get("/webhooks/deliveries").status_code == 403


def test_register_on_the_page_shows_the_secret_once(login, office):
    admin = login("admin")
    r = admin.post("/webhooks", data={"url": "https://example.com/kontor", "events": ["invoice.posted", "refund.made"],
                                      "description": "ERP sync"})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "shown only once" in page
    secret = office.admin.client.application  # read the stored secret to compare with the page
    from addons.webhooks.models import Endpoint
    from core.extensions import db
    with secret.app_context():
        stored = db.session.query(Endpoint).one()
    assert stored.secret in page and stored.events == "invoice.posted,refund.made"
    again = admin.get("/webhooks").get_data(as_text=True)
    assert stored.secret not in again and "https://example.com/kontor" in again and "ERP sync" in again
    r = admin.post(f"/webhooks/{stored.id}/delete", follow_redirects=True)
    assert "deleted" in r.get_data(as_text=True)
    assert "<td>https://example.com/kontor</td>" not in admin.get("/webhooks").get_data(as_text=True)


def test_page_refuses_a_bad_url_with_a_message(login):
    admin = login("admin")
    r = admin.post("/webhooks", data={"url": "ftp://example.com", "events": ["invoice.posted"]})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "http:// or https://" in page and "shown only once" not in page
    r = admin.post("/webhooks", data={"url": "https://example.com", "events": []})
    assert "Choose at least one event" in r.get_data(as_text=True)


def test_the_event_checkboxes_are_not_each_required(login):
    """A browser would refuse the form unless EVERY box were ticked (seen in Chromium)."""
    import re
    page = login("admin").get("/webhooks").get_data(as_text=True)
    boxes = re.findall(r'<input[^>]*name="events"[^>]*>', page)
    assert len(boxes) == 6 and not any("required" in box for box in boxes)
