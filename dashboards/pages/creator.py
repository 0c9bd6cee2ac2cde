"""The creator's page: earnings over time (settled apart from pending), totals with fees, top supporters,
earnings per post, the gifts (each linked to its transaction, with its finality), withdrawals and payouts,
escrow while unbound, a CSV statement for a period, and a banner when the indexer is behind. The creator
always comes from the session: there is no way to ask for another creator's data."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import flask
import pandas as pd
from dash import Dash, Input, Output, State, callback_context, dash_table, dcc, html, no_update

from dashboards.data import Warehouse
from dashboards.figures.earnings import earnings_figure, resample_earnings
from warehouse.freshness import STALE_AFTER_SECONDS
from warehouse.queries import dashboard as q

__all__ = ["layout", "register"]

EXPLORER = "https://explorer.solana.com/tx/{}?cluster=custom"
DataTable: Any = dash_table.DataTable  # type: ignore[attr-defined]  # generated at import, unknown to mypy


def sol(lamports: Any) -> str:
    value = int(lamports or 0)
    return f"{value / 10**9:,.4f} SOL"


def _amount(mint: str, value: Any) -> str:
    return sol(value) if not mint else f"{int(value or 0):,} base units"


def layout(warehouse: Warehouse, creator: str) -> html.Div:
    info = warehouse.run(q.creator_by_key, creator)
    if info is None:
        return html.Div([html.H2("Unknown creator"), html.P("This account is not registered on the gift pool.")])
    lag = warehouse.run(q.indexer_lag)
    banner = (
        html.Div(
            f"The indexer is {float(lag):.0f} s behind the chain: the newest gifts may not show yet.",
            id="lag-banner",
            className="banner",
        )
        if lag is not None and float(lag) > STALE_AFTER_SECONDS
        else html.Div(id="lag-banner", hidden=True)
    )
    pending = int(info["balance"]) - int(info["settled_balance"])
    escrow = warehouse.run(q.escrow, creator) or {}
    tokens = warehouse.run(q.creator_token_totals, creator)  # in base units of each token
    today = date.today()
    return html.Div(
        [
            banner,
            html.H2(f"@{info['handle']} on {info['platform']}", id="creator-title"),
            html.Div(
                [
                    html.Div(
                        [html.Span("Gifted"), html.Strong(sol(info["gifted"]), id="total-gifted")], className="card"
                    ),
                    html.Div([html.Span("Fees"), html.Strong(sol(info["fees"]), id="total-fees")], className="card"),
                    html.Div(
                        [html.Span("Withdrawn"), html.Strong(sol(info["withdrawn"]), id="total-withdrawn")],
                        className="card",
                    ),
                    html.Div(
                        [html.Span("Settled balance"), html.Strong(sol(info["settled_balance"]), id="settled")],
                        className="card",
                    ),
                    html.Div([html.Span("Pending"), html.Strong(sol(pending), id="pending")], className="card"),
                    html.Div(
                        [html.Span("Gifts in SOL"), html.Strong(str(info["gift_count"]), id="gift-count")],
                        className="card",
                    ),
                ],
                className="cards",
            ),
            html.Table(
                [html.Tr([html.Th(h) for h in ("Token", "Gifted", "Fees", "Withdrawn", "Balance", "Gifts")])]
                + [
                    html.Tr(
                        [html.Td(t["mint"], title=t["mint"])]
                        + [html.Td(f"{int(t[k]):,}") for k in ("gifted", "fees", "withdrawn", "balance", "gift_count")],
                        **{"data-mint": t["mint"]},
                    )
                    for t in tokens
                ],
                id="token-totals",
                hidden=not tokens,
            ),
            html.P(
                f"Waiting in escrow until the handle is bound: {sol(escrow.get('waiting_amount'))}"
                if escrow.get("waiting_amount")
                else "",
                id="escrow",
            ),
            html.Div(
                [
                    dcc.DatePickerRange(id="period", start_date=str(today - timedelta(days=90)), end_date=str(today)),
                    dcc.RadioItems(id="granularity", options=["day", "week", "month"], value="day", inline=True),
                    dcc.Dropdown(
                        id="currency",
                        options=[{"label": "SOL", "value": ""}]
                        + [{"label": f"token {m[:6]}…", "value": m} for m in warehouse.run(q.creator_mints, creator)],
                        value="",
                        clearable=False,
                    ),
                    html.Button("Download statement (CSV)", id="download-button"),
                    dcc.Download(id="statement"),
                ],
                className="controls",
            ),
            dcc.Graph(id="earnings-chart"),
            html.H3("Top supporters"),
            _table("supporters", warehouse.run(q.top_supporters, creator), ["rank", "fan", "total", "gift_count"]),
            html.H3("Earnings per post"),
            _table(
                "posts", warehouse.run(q.post_earnings, creator), ["post_id", "mint", "gross", "fees", "gift_count"]
            ),
            html.H3("Gifts"),
            _gifts_table(warehouse, creator),
            html.H3("Withdrawals and payouts"),
            html.Ul(
                [
                    html.Li(
                        f"{t['mint'] or 'SOL'}: {t['payouts']} payouts, {_amount(t['mint'], t['total'])} in all, of "
                        f"which {t['admin_payouts']} by batch payout ({_amount(t['mint'], t['admin_total'])})"
                    )
                    for t in warehouse.run(q.payout_totals, creator)
                ],
                id="payout-totals",
            ),
            _table(
                "withdrawals",
                warehouse.run(q.creator_withdrawals, creator),
                ["block_time", "amount", "destination", "by_admin", "commitment", "signature"],
            ),
        ]
    )


def cell(value: Any) -> str:
    """A table cell: exact base units as plain integers (never 1.2E+9), nothing for NULL."""
    if value is None:
        return ""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    return str(value)


def _table(name: str, rows: list[dict[str, Any]], columns: list[str]) -> Any:
    data = [{c: cell(r.get(c)) for c in columns} for r in rows]
    return DataTable(
        id=f"{name}-table",
        data=data,
        columns=[{"name": c, "id": c} for c in columns],
        page_size=10,
        sort_action="native",
        style_table={"overflowX": "auto"},
    )


GIFTS_PAGE = 20


def _gift_rows(gifts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "time": str(g["block_time"] or ""),
            "fan": g["fan"],
            "amount": int(g["amount"]),
            "mint": g["mint"] or "SOL",
            "post": g["post_id"],
            "finality": g["commitment"],
            "signature": f"[{g['signature'][:16]}…]({EXPLORER.format(g['signature'])})",
        }
        for g in gifts
    ]


def gifts_page(
    warehouse: Warehouse, creator: str, page: int, sort_by: list[dict[str, Any]] | None
) -> tuple[list[dict[str, Any]], int]:
    """One page of the creator's gifts, sorted in the database (all of them, not the newest few), and the
    number of pages; the table's sort request is checked against the sortable columns."""
    wanted = (sort_by or [{}])[0]
    column = wanted.get("column_id")
    sort = column if column in q.GIFT_SORTS else "time"
    descending = wanted.get("direction", "desc") == "desc" if column in q.GIFT_SORTS else True
    gifts, total = warehouse.run(
        q.creator_gifts_page, creator, offset=page * GIFTS_PAGE, limit=GIFTS_PAGE, sort=sort, descending=descending
    )
    return _gift_rows(gifts), max(1, -(-total // GIFTS_PAGE))


def _gifts_table(warehouse: Warehouse, creator: str) -> Any:
    data, pages = gifts_page(warehouse, creator, 0, None)
    columns = [{"name": c, "id": c} for c in ("time", "fan", "amount", "mint", "post", "finality")]
    columns.append({"name": "signature", "id": "signature", "presentation": "markdown"})
    return DataTable(
        id="gifts-table",
        data=data,
        columns=columns,
        page_action="custom",
        page_current=0,
        page_size=GIFTS_PAGE,
        page_count=pages,
        sort_action="custom",
        sort_mode="single",
        sort_by=[],
        style_table={"overflowX": "auto"},
    )


def statement_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    columns = [
        "block_time",
        "kind",
        "signature",
        "counterparty",
        "mint",
        "amount",
        "fee",
        "net",
        "post_id",
        "commitment",
    ]
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        # amounts are exact base units (NUMERIC): written as integers, never as 3E+8
        writer.writerow({c: int(row[c]) if c in ("amount", "fee", "net") else row.get(c) for c in columns})
    return buffer.getvalue()


def register(app: Dash, warehouse: Warehouse) -> None:
    @app.callback(
        Output("earnings-chart", "figure"),
        Input("period", "start_date"),
        Input("period", "end_date"),
        Input("granularity", "value"),
        Input("currency", "value"),
    )
    def chart(start: str, end: str, granularity: str, mint: str) -> Any:
        creator = flask.session.get("creator")
        if flask.session.get("role") != "creator" or not creator:
            return no_update
        daily = pd.DataFrame(
            warehouse.run(q.daily_earnings, creator, date.fromisoformat(start[:10]), date.fromisoformat(end[:10]))
        )
        chosen = daily[daily["mint"] == (mint or "")] if not daily.empty else daily
        if mint:
            return earnings_figure(resample_earnings(chosen, granularity), unit="token base units", scale=1)
        return earnings_figure(resample_earnings(chosen, granularity))

    @app.callback(
        Output("gifts-table", "data"),
        Output("gifts-table", "page_count"),
        Output("gifts-table", "page_current"),
        Input("gifts-table", "page_current"),
        Input("gifts-table", "sort_by"),
        prevent_initial_call=True,
    )
    def gifts(page: int | None, sort_by: list[dict[str, Any]] | None) -> Any:
        creator = flask.session.get("creator")
        if flask.session.get("role") != "creator" or not creator:
            return no_update, no_update, no_update
        # a new order starts on its first page
        current = 0 if "gifts-table.sort_by" in callback_context.triggered_prop_ids else max(0, int(page or 0))
        data, pages = gifts_page(warehouse, creator, current, sort_by)
        return data, pages, current

    @app.callback(
        Output("statement", "data"),
        Input("download-button", "n_clicks"),
        State("period", "start_date"),
        State("period", "end_date"),
        prevent_initial_call=True,
    )
    def download(_: int, start: str, end: str) -> Any:
        creator = flask.session.get("creator")
        if flask.session.get("role") != "creator" or not creator:
            return no_update
        rows = warehouse.run(q.statement, creator, date.fromisoformat(start[:10]), date.fromisoformat(end[:10]))
        return {"content": statement_csv(rows), "filename": f"memefans-statement-{start[:10]}-{end[:10]}.csv"}
