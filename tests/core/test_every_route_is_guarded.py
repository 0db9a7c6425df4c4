"""Every route, HTML and API, checks a permission (core.security.require), except the few meant to be public."""
PUBLIC = {
    "core.login",          # the login form itself
    "core.logout",         # POST + CSRF; logging out needs no permission
    "static",              # CSS, JS
    "api-docs.openapi_json",  # the OpenAPI document
    # The portal's signed link (and its PDF) opens one invoice without a login: the signed, expiring, revocable
    # token in the URL is the permission (addons/portal/services.open_link).
    "portal.shared",
    "portal.shared_pdf",
}


def _guards(app, endpoint, methods):
    view = app.view_functions[endpoint]
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return {m: getattr(view, "kontor_permissions", None) for m in methods}
    return {m: getattr(getattr(view_class, m.lower(), None), "kontor_permissions", None) for m in methods}


def test_every_route_requires_a_permission(app):
    unguarded = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        for method, permissions in _guards(app, rule.endpoint, methods).items():
            if not permissions:
                unguarded.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert unguarded == [], "routes without @require: " + ", ".join(unguarded)


def test_public_routes_exist(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert PUBLIC <= endpoints
