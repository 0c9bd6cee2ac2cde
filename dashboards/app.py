"""The Dash app: `create_app(settings)` builds it (the composition root's one call); the warehouse is
reached through `warehouse.queries` only. Pages: /creator for a signed-in creator; /admin/anomalies,
/admin/health and /admin/platform for admins. Login: /login (admin password), /auth/link/<token> (a
creator's one-time link), /auth/nonce + /auth/wallet (a creator signs a nonce with their wallet)."""

from __future__ import annotations

import secrets
from typing import Any

import base58
import flask
from dash import Dash, Input, Output, dcc, html

from dashboards import auth
from dashboards.data import Warehouse
from dashboards.pages import admin, creator
from dashboards.settings import DashboardSettings
from warehouse.db import effective_url

__all__ = ["create_app"]

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 24px; color: #111827; }
nav a { margin-right: 16px; } .cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 12px; display: flex; flex-direction: column; }
.controls { display: flex; gap: 12px; align-items: center; margin: 12px 0; } .controls > div { min-width: 180px; }
.banner { background: #fef3c7; padding: 8px; border-radius: 6px; margin: 8px 0; }
"""

LOGIN_FORM = """<!doctype html><title>MEMEFANS admin</title><h1>MEMEFANS admin</h1>
<form method="post"><p><label>User <input name="user" autocomplete="username"></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password"></label></p>
<p><button type="submit">Log in</button></p><p role="alert">{error}</p></form>"""


def create_app(settings: DashboardSettings | None = None, *, database_url: str | None = None) -> Dash:
    settings = settings or DashboardSettings()
    warehouse = Warehouse(database_url or effective_url(settings.warehouse), timeout=settings.warehouse.connect_timeout)
    app = Dash(__name__, title="MEMEFANS", suppress_callback_exceptions=True)
    app.index_string = app.index_string.replace("{%css%}", "{%css%}<style>" + STYLE + "</style>")
    server: flask.Flask = app.server
    server.secret_key = settings.secret_key
    server.extensions["memefans_warehouse"] = warehouse  # for whoever owns the app's lifetime (tests, the demo)
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    used_links: set[str] = set()
    password_hash = settings.password_hash()

    @server.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if flask.request.method == "POST":
            user, password = flask.request.form.get("user", ""), flask.request.form.get("password", "")
            if user == settings.admin_user and auth.verify_password(password, password_hash):
                flask.session.clear()
                flask.session.update(role="admin", user=user)
                return flask.redirect("/admin/anomalies")
            return LOGIN_FORM.format(error="Wrong user or password."), 401
        return LOGIN_FORM.format(error="")

    @server.route("/auth/link/<token>")
    def link(token: str) -> Any:
        try:
            who = auth.read_link_token(settings.secret_key, token, used_links)
        except auth.LinkError as exc:
            return f"This login link cannot be used: {exc}.", 403
        flask.session.clear()
        flask.session.update(role="creator", creator=who)
        return flask.redirect("/creator")

    @server.route("/auth/nonce")
    def nonce() -> Any:
        value = secrets.token_hex(16)
        flask.session["nonce"] = value
        return {"nonce": value, "message": auth.sign_in_message(value).decode()}

    @server.route("/auth/wallet", methods=["POST"])
    def wallet() -> Any:
        body = flask.request.get_json(silent=True) or {}
        value = flask.session.pop("nonce", None)
        try:
            signature = base58.b58decode(str(body.get("signature", "")))
        except ValueError:
            signature = b""
        pubkey = str(body.get("pubkey", ""))
        if not value or not auth.verify_wallet_signature(pubkey, value, signature):
            return {"error": "bad_signature", "message": "the signature does not match a fresh nonce"}, 403
        from warehouse.queries import dashboard as q

        owned = warehouse.run(q.creators_of_authority, pubkey)
        if not owned:
            return {"error": "not_a_creator", "message": "no creator is bound to this wallet"}, 403
        flask.session.clear()
        flask.session.update(role="creator", creator=owned[0])
        return {"creator": owned[0]}

    @server.route("/logout")
    def logout() -> Any:
        flask.session.clear()
        return flask.redirect("/")

    app.layout = html.Div([dcc.Location(id="url"), html.Nav(id="nav"), html.Main(id="page")])

    @app.callback(Output("nav", "children"), Output("page", "children"), Input("url", "pathname"))
    def route(path: str | None) -> tuple[Any, Any]:
        role = flask.session.get("role")
        path = path or "/"
        if path.startswith("/admin"):
            if role != "admin":
                return [], html.Div([html.P("Admins only."), html.A("Log in", href="/login")], id="denied")
            nav = [html.A(label, href=href) for label, href in (
                ("Anomalies", "/admin/anomalies"), ("Indexer health", "/admin/health"), ("Platform", "/admin/platform"),
                ("Log out", "/logout"))]  # fmt: skip
            if path.startswith("/admin/health"):
                return nav, admin.health_layout(warehouse)
            if path.startswith("/admin/platform"):
                return nav, admin.platform_layout(warehouse)
            return nav, admin.anomalies_layout(warehouse)
        if path.startswith("/creator"):
            if role != "creator":
                return [], html.Div([html.P("Sign in with your wallet or your login link first.")], id="denied")
            return [html.A("Log out", href="/logout")], creator.layout(warehouse, str(flask.session["creator"]))
        return [], html.Div([html.H1("MEMEFANS"), html.P("Creators: open your login link. Admins: "),
                             html.A("log in", href="/login")])  # fmt: skip

    creator.register(app, warehouse)
    admin.register(app, warehouse)
    return app
