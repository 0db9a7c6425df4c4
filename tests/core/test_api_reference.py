"""docs/reference/api.md is what tools/api_reference.py makes from the code (OpenAPI document and the views'
permissions), and docs/api.md covers every route group and every role the app has."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from core.security import current_roles

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("api_reference", ROOT / "tools" / "api_reference.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("api_reference", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rendered(tool):
    return tool.render()


def test_the_checked_in_reference_is_what_the_code_gives(tool, rendered):
    assert tool.TARGET.read_text() == rendered, "docs/reference/api.md is out of date: run tools/api_reference.py"


def test_check_mode_fails_on_an_out_of_date_page(tool, rendered, monkeypatch, tmp_path, capsys):
    stale = tmp_path / "api.md"
    stale.write_text(rendered.replace("### `GET /api/v1/partners`", "### `GET /api/v1/customers`"))
    monkeypatch.setattr(tool, "TARGET", stale)
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    monkeypatch.setattr(tool, "render", lambda: rendered)
    assert tool.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    stale.write_text(rendered)
    assert tool.main(["--check"]) == 0


def _api_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api-docs.openapi_json":
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield method, path, rule.endpoint


def test_every_route_and_its_guard_is_in_the_reference(app, rendered):
    routes = list(_api_routes(app))
    assert len(routes) > 50
    for method, path, endpoint in routes:
        heading = f"### `{method} {path}`"
        assert heading in rendered, f"{heading} ({endpoint}) is missing from docs/reference/api.md"
        section = rendered.split(heading, 1)[1].split("\n### ", 1)[0]
        assert "- Who may: `admin`" in section, section


def test_the_reference_says_who_may_from_the_permission_table(app, rendered):
    with app.app_context():
        permissions = app.extensions["kontor"].permissions
        for name, roles in permissions.items():
            row = f"| `{name}` | " + ", ".join(f"`{r}`" for r in sorted({"admin"} | roles)) + " |"
            assert row in rendered, row
    section = rendered.split("### `POST /api/v1/invoices/{invoice_id}/post`", 1)[1].split("\n### ", 1)[0]
    holders = sorted({"admin"} | permissions["invoicing.post"])
    assert f"- Who may: {', '.join(f'`{r}`' for r in holders)} (permission `invoicing.post`)" in section


def test_docs_api_md_names_every_role_and_route_group(app):
    text = (ROOT / "docs" / "api.md").read_text()
    roles_table = text.split("## Roles", 1)[1].split("\n## ", 1)[0]
    with app.app_context():
        for role in current_roles():
            assert f"| `{role}` |" in roles_table, f"role {role} is missing from docs/api.md's roles table"
    for blueprint in app.extensions["kontor"].api_blueprints:
        assert f"(`{blueprint.name}`" in text, f"route group {blueprint.name} is missing from docs/api.md"
    for _method, path, _endpoint in _api_routes(app):
        top = path.removeprefix("/api/v1").split("/")[1]
        assert f"/{top}" in text, f"{path}: no word of docs/api.md about /{top}"
