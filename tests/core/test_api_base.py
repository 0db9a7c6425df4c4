"""What every API client meets first: tokens, roles, the error shape, validation, limits, lists, the OpenAPI
document and Idempotency-Key. Never a 500 for bad input."""
from __future__ import annotations

import json

import pytest

ERROR_KEYS = {"code", "message", "fields"}


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


def test_no_token_or_a_bad_token_is_401_in_the_error_shape(client):
    assert_error(client.get("/api/v1/partners"), 401, "unauthorized")
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Bearer kt_not-a-real-token"}), 401)
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Basic YWRtaW46YWRtaW4="}), 401)
    assert_error(client.post("/api/v1/partners", json={"name": "Acme"}), 401)


def test_the_session_cookie_is_not_a_token(login):
    browser = login("admin")
    assert browser.get("/").status_code == 200
    assert_error(browser.get("/api/v1/me"), 401)  # the API never trusts the cookie (no CSRF there)


def test_me_answers_who_the_token_belongs_to(api):
    client = api("bookkeeper")
    me = client.get("/me")
    assert me.status_code == 200
    assert me.json["role"] == "bookkeeper" and me.json["id"] == client.user_id


def test_a_wrong_role_is_403(api):
    technician = api("technician")
    error = assert_error(technician.get("/partners"), 403, "forbidden")
    assert "technician" in error["message"]
    assert_error(technician.post("/partners", json={"name": "Acme"}), 403)
    assert_error(api("bookkeeper").post("/partners", json={"name": "Acme"}), 403)  # reads, does not write
    assert_error(api("back_office").get("/addons"), 403)


def test_an_unknown_id_is_404(api):
    client = api("back_office")
    assert_error(client.get("/partners/999999"), 404, "not_found")
    assert_error(client.patch("/partners/999999", json={"name": "X"}), 404)
    assert_error(client.get("/no-such-thing"), 404)


def test_an_id_too_large_for_the_database_is_404_not_500(api):
    assert_error(api("back_office").get("/partners/99999999999999999999"), 404)


@pytest.mark.parametrize("body, field", [
    ({"email": "a@b.example"}, "name"),
    ({"name": ""}, "name"),
    ({"name": "Acme", "country": "FRA"}, "country"),
    ({"name": "Acme", "email": "not-an-email"}, "email"),
    ({"name": 42}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": "Acme", "colour": "blue"}, "colour"),  # unknown fields are refused, not ignored
])
def test_a_bad_value_is_422_naming_the_field(api, body, field):
    client = api("back_office")
    error = assert_error(client.post("/partners", json=body), 422)
    assert field in error["fields"], error
    assert client.get("/partners").json["total"] == 0  # a refused request changes nothing


def test_a_bad_value_in_a_patch_is_422_and_changes_nothing(api):
    client = api("back_office")
    partner = client.post("/partners", json={"name": "Acme", "city": "Lyon"}).json
    error = assert_error(client.patch(f"/partners/{partner['id']}", json={"city": "Paris", "country": "FRA"}), 422)
    assert "country" in error["fields"]
    assert client.get(f"/partners/{partner['id']}").json["city"] == "Lyon"
    assert client.patch(f"/partners/{partner['id']}", json={"city": "Paris"}).json["city"] == "Paris"


@pytest.mark.parametrize("raw", ['{"name": "Acme"', "not json at all", '{"name": "Acme",}', "\xff\xfe"])
def test_malformed_json_is_400_in_the_error_shape(api, raw):
    client = api("back_office")
    response = client.post("/partners", data=raw.encode("latin-1"), content_type="application/json", json=None)
    error = assert_error(response, 400)
    assert "JSON" in error["message"]


@pytest.mark.parametrize("body", [[], ["Acme"], "Acme", None, 42])
def test_json_that_is_not_an_object_is_refused_cleanly(api, body):
    client = api("back_office")
    response = client.post("/partners", data=json.dumps(body), content_type="application/json", json=None)
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert_error(response, response.status_code)


def test_a_body_over_the_size_limit_is_413(api, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = json.dumps({"name": "A" * (limit + 10)})
    response = api("back_office").post("/partners", data=body, content_type="application/json", json=None)
    assert_error(response, 413, "payload_too_large")


def test_lists_page_with_limit_and_offset_and_give_the_total(api):
    client = api("back_office")
    for name in ["Echo", "Bravo", "Delta", "Alpha", "Charlie"]:
        assert client.post("/partners", json={"name": name}).status_code == 201
    first = client.get("/partners?limit=2").json
    assert first["total"] == 5 and [p["name"] for p in first["items"]] == ["Alpha", "Bravo"]
    second = client.get("/partners?limit=2&offset=2").json
    assert second["total"] == 5 and [p["name"] for p in second["items"]] == ["Charlie", "Delta"]
    last = client.get("/partners?limit=2&offset=4").json
    assert [p["name"] for p in last["items"]] == ["Echo"]
    assert client.get("/partners?offset=10").json == {"items": [], "total": 5}
    assert client.get("/partners?q=ha").json["total"] == 2  # Alpha, Charlie
    assert len(client.get("/partners").json["items"]) == 5  # default limit 50


@pytest.mark.parametrize("query, field", [("limit=0", "limit"), ("limit=501", "limit"), ("limit=ten", "limit"),
                                          ("offset=-1", "offset")])
def test_bad_paging_is_422(api, query, field):
    error = assert_error(api("back_office").get(f"/partners?{query}"), 422)
    assert field in error["fields"]


def test_the_openapi_document_is_valid_json_with_the_paths(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.get_data(as_text=True))
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Kontor"
    paths = document["paths"]
    for path in ("/api/v1/partners", "/api/v1/partners/{partner_id}", "/api/v1/me"):
        assert path in paths, sorted(paths)
    assert "post" in paths["/api/v1/partners"] and "patch" in paths["/api/v1/partners/{partner_id}"]


# -- Idempotency-Key -------------------------------------------------------------------------------------------
def test_the_same_key_and_body_replays_the_first_answer_and_creates_one_partner(api):
    client = api("back_office")
    headers = {"Idempotency-Key": "create-acme-1"}
    first = client.post("/partners", json={"name": "Acme"}, headers=headers)
    second = client.post("/partners", json={"name": "Acme"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_data() == second.get_data()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert client.get("/partners").json["total"] == 1


def test_the_same_key_with_another_body_is_422_idempotency_key_reused(api):
    client = api("back_office")
    headers = {"Idempotency-Key": "create-acme-2"}
    assert client.post("/partners", json={"name": "Acme"}, headers=headers).status_code == 201
    error = assert_error(client.post("/partners", json={"name": "Globex"}, headers=headers), 422,
                         "idempotency_key_reused")
    assert "Idempotency-Key" in error["fields"]
    assert [p["name"] for p in client.get("/partners").json["items"]] == ["Acme"]


def test_keys_belong_to_each_user(api):
    alice, bob = api("back_office"), api("back_office")
    headers = {"Idempotency-Key": "same-key"}
    a = alice.post("/partners", json={"name": "Acme"}, headers=headers)
    b = bob.post("/partners", json={"name": "Acme"}, headers=headers)
    assert a.status_code == b.status_code == 201
    assert a.json["id"] != b.json["id"]
    assert "Idempotent-Replayed" not in b.headers
    assert alice.get("/partners").json["total"] == 2


def test_a_refused_request_is_replayed_as_refused_and_the_key_still_protects(api):
    client = api("back_office")
    headers = {"Idempotency-Key": "bad-country"}
    first = client.post("/partners", json={"name": "Acme", "country": "FRA"}, headers=headers)
    second = client.post("/partners", json={"name": "Acme", "country": "FRA"}, headers=headers)
    assert first.status_code == second.status_code == 422
    assert first.get_json() == second.get_json()
    assert client.get("/partners").json["total"] == 0


def test_an_overlong_key_is_422(api):
    assert_error(api("back_office").post("/partners", json={"name": "Acme"},
                                         headers={"Idempotency-Key": "k" * 201}), 422)


def test_no_bad_input_ever_gets_a_500(api):
    client = api("admin")
    partner = client.post("/partners", json={"name": "Acme"}).json
    attempts = [
        client.post("/partners", data=b"\x00\x01\x02", content_type="application/octet-stream", json=None),
        client.post("/partners", data="name=Acme", content_type="application/x-www-form-urlencoded", json=None),
        client.post("/partners", json={"name": {"nested": True}}),
        client.post("/partners", json={"name": "Acme", "email": ["a@b.c"]}),
        client.post("/partners", json={"name": "\u0000\ud7ff\U0001F600"}),
        client.patch(f"/partners/{partner['id']}", json={"id": 7}),
        client.patch(f"/partners/{partner['id']}", json=[]),
        client.get("/partners?limit=99999999999999999999"),
        client.get("/partners?q=%25%27%22;--"),
        client.get("/partners/-1"),
        client.delete(f"/partners/{partner['id']}"),
        client.put(f"/partners/{partner['id']}", json={"name": "X"}),
    ]
    for response in attempts:
        assert response.status_code < 500, (response.status_code, response.get_data(as_text=True))
        if response.status_code >= 400:
            assert_error(response, response.status_code)
