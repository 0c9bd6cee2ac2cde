"""Pure figure builders: DataFrames in, plotly Figures out (no data access, no Dash)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

__all__ = ["earnings_figure", "kpi_figure", "resample_earnings"]

LAMPORTS = 10**9
_RULES = {"day": "D", "week": "W-MON", "month": "MS"}


def resample_earnings(daily: pd.DataFrame, granularity: str) -> pd.DataFrame:
    """Daily rows (day, settled_net, pending_net, gift_count) summed by day, week or month (exact ints)."""
    if granularity not in _RULES:
        raise ValueError(f"granularity must be one of {', '.join(_RULES)}")
    if daily.empty:
        return pd.DataFrame(columns=["period", "settled_net", "pending_net", "gift_count"])
    frame = daily.assign(period=pd.to_datetime(daily["day"]).dt.to_period(_RULES[granularity][0]).dt.start_time)
    out = frame.groupby("period", sort=True)[["settled_net", "pending_net", "gift_count"]].sum().reset_index()
    for column in ("settled_net", "pending_net", "gift_count"):
        out[column] = out[column].map(int)
    return out


def earnings_figure(periods: pd.DataFrame, unit: str = "SOL", scale: int = LAMPORTS) -> go.Figure:
    """Settled and pending net earnings per period, stacked, in `unit`."""
    figure = go.Figure()
    x = list(periods["period"]) if not periods.empty else []
    for column, name, color in (("settled_net", "settled", "#15803d"), ("pending_net", "pending", "#f59e0b")):
        values = [int(v) / scale for v in periods[column]] if not periods.empty else []
        figure.add_trace(go.Bar(x=x, y=values, name=name, marker_color=color))
    figure.update_layout(barmode="stack", title=f"Net earnings ({unit})", margin={"t": 40, "l": 40, "r": 10, "b": 30},
                         legend={"orientation": "h"}, yaxis_title=unit)  # fmt: skip
    return figure


def kpi_figure(kpis: pd.DataFrame) -> go.Figure:
    """Daily SOL volume and fees (bars), the value held in vaults at the end of each day (dotted line), and
    active fans and creators (lines, right axis)."""
    figure = go.Figure()
    if kpis.empty:
        return figure.update_layout(title="Platform volume")
    days = list(kpis["day"])
    figure.add_trace(go.Bar(x=days, y=[int(v) / LAMPORTS for v in kpis["volume_lamports"]], name="volume (SOL)"))
    figure.add_trace(go.Bar(x=days, y=[int(v) / LAMPORTS for v in kpis["fees_lamports"]], name="fees (SOL)"))
    figure.add_trace(go.Scatter(x=days, y=list(kpis["active_fans"]), name="active fans", yaxis="y2"))
    figure.add_trace(go.Scatter(x=days, y=list(kpis["active_creators"]), name="active creators", yaxis="y2"))
    held = [int(v) / LAMPORTS for v in kpis["vault_value_lamports"]]
    figure.add_trace(go.Scatter(x=days, y=held, name="value in vaults (SOL)", line={"dash": "dot"}))
    figure.update_layout(title="Platform volume", yaxis2={"overlaying": "y", "side": "right"},
                         legend={"orientation": "h"}, margin={"t": 40, "l": 40, "r": 40, "b": 30})  # fmt: skip
    return figure
