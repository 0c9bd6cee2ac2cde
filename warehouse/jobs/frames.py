"""Small helpers shared by the transforms and the rules."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["records"]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a frame as plain dicts (column -> value), the way the rules read them."""
    return [dict(zip(frame.columns, row, strict=True)) for row in frame.itertuples(index=False, name=None)]
