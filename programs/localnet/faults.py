"""Fault injection for the local chain, so clients can be tested against a hostile cluster. Off by default.

Set at start (flags) or at run time (POST /admin/faults with a JSON object of these fields). Randomness is
seeded so that a test sees the same faults on every run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["Faults"]


@dataclass
class Faults:
    rate_limit_fraction: float = 0.0  # share of HTTP requests answered 429
    retry_after_s: int = 1  # the Retry-After of those answers
    latency_ms: int = 0  # added to every HTTP request
    duplicate_fraction: float = 0.0  # share of notifications sent twice
    notification_delay_ms: int = 0  # notifications held back this long (reordering them)
    ws_drop_every_s: float = 0.0  # close every websocket connection this often (0: never)
    seed: int = 7
    rng: random.Random = field(default_factory=lambda: random.Random(7), repr=False)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a JSON object of changes; unknown or ill-typed fields are a ValueError naming them."""
        known = {f.name: f.type for f in fields(self) if f.name != "rng"}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(known))}")
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ValueError(f"fault {name!r} must be a non-negative number")
            if name.endswith("_fraction") and value > 1:
                raise ValueError(f"fault {name!r} is a fraction between 0 and 1")
            setattr(self, name, type(getattr(self, name))(value))
        if "seed" in changes:
            self.rng = random.Random(self.seed)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "rng"}

    def rate_limited(self) -> bool:
        return self.rate_limit_fraction > 0 and self.rng.random() < self.rate_limit_fraction

    def duplicated(self) -> bool:
        return self.duplicate_fraction > 0 and self.rng.random() < self.duplicate_fraction
