"""Payment methods: cash, bank transfer, card at install; admins add and disable more."""
from datetime import date


def test_default_methods(api):
    r = api("bookkeeper").get("/payment-methods")
    assert r.status_code == 200
    methods = {m["code"]: m for m in r.json["items"]}
    assert {"cash", "bank_transfer", "card"} <= set(methods) and r.json["total"] == len(methods)
    assert methods["cash"]["journal"] == "CSH"
    assert methods["bank_transfer"]["journal"] == "BNK" and methods["card"]["journal"] == "BNK"
    assert methods["card"]["name"] == "Card"
    assert api("technician").get("/payment-methods").status_code == 403


def test_admin_adds_a_method_and_it_can_be_used(api, books):
    admin = api("admin")
    r = admin.post("/payment-methods", json={"code": "cheque", "name": "Cheque", "journal": "BNK"})
    assert r.status_code == 201 and r.json["code"] == "cheque" and r.json["journal"] == "BNK"
    assert admin.post("/payment-methods", json={"code": "cheque", "name": "Again"}).status_code == 422
    r = admin.post("/payment-methods", json={"code": "x y", "name": "Bad"})
    assert r.status_code == 422 and "code" in r.json["error"]["fields"]
    r = admin.post("/payment-methods", json={"code": "z", "name": "Z", "journal": "XYZ"})
    assert r.status_code == 422 and "journal" in r.json["error"]["fields"]
    assert api("back_office").post("/payment-methods", json={"code": "a", "name": "A"}).status_code == 403
    assert api("bookkeeper").post("/payment-methods", json={"code": "a", "name": "A"}).status_code == 403
    inv = books.invoice("10.00")
    r = books.a.post(f"/invoices/{inv['id']}/payments",
                     json={"amount": "10", "method": "cheque", "date": date.today().isoformat()})
    assert r.status_code == 201 and r.json["method"] == "cheque"


def test_methods_page(login, books):
    admin = login("admin")
    page = admin.get("/payment-methods").get_data(as_text=True)
    assert "Bank transfer" in page and "CSH" in page
    r = admin.post("/payment-methods", data={"code": "voucher", "name": "Gift voucher", "journal": "CSH"})
    assert r.status_code == 302
    assert "Gift voucher" in admin.get("/payment-methods").get_data(as_text=True)
    r = admin.post("/payment-methods", data={"code": "voucher", "name": "Again", "journal": "CSH"})
    assert r.status_code == 200 and "exists already" in r.get_data(as_text=True)
    assert admin.post("/payment-methods/voucher/toggle").status_code == 302
    assert "voucher" not in [m["code"] for m in books.a.get("/payment-methods").json["items"]]
    inv = books.invoice("10.00")
    r = books.a.post(f"/invoices/{inv['id']}/payments", json={"amount": "10", "method": "voucher"})
    assert r.status_code == 422 and "method" in r.json["error"]["fields"]
    assert admin.post("/payment-methods/nope/toggle").status_code == 404
    assert login("back_office").get("/payment-methods").status_code == 403
