"""The admins' console: the anomaly queue (filters, evidence, verdicts recorded with who and when), the
indexer's health (cursor, lag, dead letters, dead slots, the jobs' last runs, reconciliation) and the
platform (KPIs, the audit trail of admin actions and handle rebinds)."""

from __future__ import annotations

import json
from typing import Any

import flask
import pandas as pd
from dash import Dash, Input, Output, State, dash_table, dcc, html, no_update

from dashboards.data import Warehouse
from dashboards.figures.earnings import kpi_figure
from dashboards.pages.creator import cell
from warehouse.queries import dashboard as q

__all__ = ["anomalies_layout", "health_layout", "platform_layout", "register"]

DataTable: Any = dash_table.DataTable  # type: ignore[attr-defined]  # generated at import, unknown to mypy
SEVERITIES = ["critical", "high", "medium", "low", "info"]
ANOMALY_COLUMNS = ["id", "severity", "rule", "status", "title", "creator", "last_seen", "acted_by"]


def _anomaly_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{c: cell(r.get(c)) for c in ANOMALY_COLUMNS} for r in rows]


def anomalies_layout(warehouse: Warehouse) -> html.Div:
    rows = warehouse.run(q.anomalies)
    rules = sorted({r["rule"] for r in rows})
    return html.Div(
        [
            html.H2("Anomalies"),
            html.Div(
                [
                    dcc.Dropdown(id="filter-severity", options=SEVERITIES, placeholder="severity", clearable=True),
                    dcc.Dropdown(id="filter-rule", options=rules, placeholder="rule", clearable=True),
                    dcc.Dropdown(id="filter-status", options=list(q.STATUSES), placeholder="status", clearable=True),
                ],
                className="controls",
            ),
            DataTable(
                id="anomalies-table",
                data=_anomaly_rows(rows),
                columns=[{"name": c, "id": c} for c in ANOMALY_COLUMNS],
                row_selectable="single",
                page_size=15,
                sort_action="native",
                style_table={"overflowX": "auto"},
            ),
            html.Div(
                [
                    html.Button("Acknowledge", id="act-acknowledged"),
                    html.Button("Resolve", id="act-resolved"),
                    html.Button("False positive", id="act-false_positive"),
                    dcc.Input(id="act-note", placeholder="note", debounce=True),
                ],
                className="controls",
            ),
            html.Div(id="act-result", role="status"),
            html.Pre(id="evidence"),
        ]
    )


def _slug(label: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in label.lower()).split())


def reconciliation_summary(status: dict[str, Any]) -> str:
    """The latest reconciliation verdict and its age ("match at slot 1234, 40 s ago"), and what the last run
    did when it gave none (skipped, and why; or failed)."""
    verdict, last = status.get("verdict"), status.get("last_run")
    parts = []
    if verdict:
        age = status.get("age_seconds")
        said = f"{verdict['verdict']} at slot {verdict['slot']}" + ("" if age is None else f", {age:.0f} s ago")
        differ = f", {verdict['mismatches']} differ" if verdict["mismatches"] else ""
        parts.append(f"{said} ({verdict['vaults']} vaults{differ})")
    if last is None:
        parts.append("not run yet")
    elif last["failed"]:
        parts.append(f"the last run failed at {last['started_at']}")
    elif isinstance(last["notes"], dict) and last["notes"].get("verdict") == "skipped":
        parts.append(f"the last run skipped: {last['notes'].get('reason')}")
    return "; ".join(parts) if parts else "no verdict yet"


def health_layout(warehouse: Warehouse) -> html.Div:
    health = warehouse.run(q.indexer_health)
    lag = health["lag_seconds"]
    facts = [
        ("Cursor slot", health["cursor_slot"]),
        ("Chain tip slot", health["tip_slot"]),
        ("Lag (slots)", (health["tip_slot"] or 0) - (health["cursor_slot"] or 0) if health["cursor_slot"] else None),
        ("Lag (seconds)", f"{float(lag):.1f}" if lag is not None else None),
        ("Events per second (newest 5 min)", health["events_per_second"]),
        ("Dead letters", health["dead_letters"]),
        ("Transactions not yet final", health["pending_transactions"]),
        ("Dead slots removed", health["dead_slots"]),
        ("Failed job runs (24 h)", health["failed_jobs_24h"]),
        ("Reconciliation", reconciliation_summary(warehouse.run(q.reconciliation_status))),
    ]
    jobs = [
        {
            "job": j["job"],
            "last run": str(j["started_at"]),
            "rows": j["rows"],
            "failed": str(j["failed"]),
            "notes": j["notes"] or "",
        }
        for j in health["jobs"]
    ]
    return html.Div(
        [
            html.H2("Indexer health"),
            html.Dl(
                [
                    part
                    for label, value in facts
                    for part in (html.Dt(label), html.Dd(str(value), id="health-" + _slug(label)))
                ]
            ),
            html.H3("Jobs (last run of each; reconciliation results in its notes)"),
            DataTable(
                id="jobs-table",
                data=jobs,
                columns=[{"name": c, "id": c} for c in ("job", "last run", "rows", "failed", "notes")],
            ),
        ]
    )


def platform_layout(warehouse: Warehouse) -> html.Div:
    kpis = pd.DataFrame(warehouse.run(q.platform_kpis))
    audit = [{k: cell(v) for k, v in r.items()} for r in warehouse.run(q.admin_audit)]
    batches = [{k: cell(v) or "SOL" if k == "mint" else cell(v) for k, v in r.items()}
               for r in warehouse.run(q.payout_batches)]  # fmt: skip
    return html.Div(
        [
            html.H2("Platform"),
            dcc.Graph(id="kpi-chart", figure=kpi_figure(kpis)),
            html.H3("Batch payouts"),
            DataTable(
                id="batches-table",
                data=batches,
                columns=[
                    {"name": c, "id": c} for c in ("block_time", "creators", "total", "largest", "mint", "signature")
                ],
                page_size=10,
                sort_action="native",
                style_table={"overflowX": "auto"},
            ),
            html.H3("Audit trail: admin actions and handle rebinds"),
            DataTable(
                id="audit-table",
                data=audit,
                columns=[{"name": c, "id": c} for c in ("block_time", "kind", "actor", "details", "signature")],
                page_size=15,
                sort_action="native",
                style_table={"overflowX": "auto"},
            ),
        ]
    )


def register(app: Dash, warehouse: Warehouse) -> None:
    @app.callback(
        Output("anomalies-table", "data"),
        Output("act-result", "children"),
        Input("filter-severity", "value"),
        Input("filter-rule", "value"),
        Input("filter-status", "value"),
        Input("act-acknowledged", "n_clicks"),
        Input("act-resolved", "n_clicks"),
        Input("act-false_positive", "n_clicks"),
        State("anomalies-table", "selected_rows"),
        State("anomalies-table", "data"),
        State("act-note", "value"),
    )
    def queue(severity: str | None, rule: str | None, status: str | None, *rest: Any) -> Any:
        if flask.session.get("role") != "admin":
            return no_update, "admins only"
        from dash import ctx

        selected, data, note = rest[3], rest[4], rest[5]
        message = ""
        trigger = ctx.triggered_id if isinstance(ctx.triggered_id, str) else ""
        if trigger.startswith("act-") and trigger != "act-note":
            if not selected:
                message = "select an anomaly first"
            else:
                verdict = trigger.removeprefix("act-")
                anomaly_id = int(data[selected[0]]["id"])
                who = str(flask.session.get("user", "admin"))
                warehouse.run(q.set_anomaly_status, anomaly_id, verdict, who, note or "")
                message = f"anomaly {anomaly_id}: {verdict} by {who}"
        rows = warehouse.run(q.anomalies, severity=severity, rule=rule, status=status)
        return _anomaly_rows(rows), message

    @app.callback(
        Output("evidence", "children"),
        Input("anomalies-table", "selected_rows"),
        State("anomalies-table", "data"),
    )
    def evidence(selected: list[int] | None, data: list[dict[str, Any]]) -> str:
        if flask.session.get("role") != "admin" or not selected:
            return ""
        anomaly_id = int(data[selected[0]]["id"])
        found = [r for r in warehouse.run(q.anomalies) if r["id"] == anomaly_id]
        return json.dumps(found[0]["evidence"], indent=2) if found else ""
