def test_login_page(client):
    r = client.get("/login")
    assert r.status_code == 200
    assert b'name="login"' in r.data


def test_dashboard_after_login(login):
    browser = login("admin")
    r = browser.get("/")
    assert r.status_code == 200
    assert b"Good day" in r.data


def test_api_partners(api):
    a = api("back_office")
    r = a.post("/partners", json={"name": "Acme"})
    assert r.status_code == 201, r.json
    r = a.get("/partners")
    assert r.json["total"] == 1
