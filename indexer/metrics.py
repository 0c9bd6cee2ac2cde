"""The indexer's Prometheus metrics, in one registry that `memefans index --metrics-port` serves.

Defining a metric does no I/O; serving them is the composition root's choice.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = [
    "BATCHES",
    "CURSOR_SLOT",
    "DEAD_LETTERS",
    "ERRORS",
    "EVENTS",
    "GAPS",
    "REGISTRY",
    "ROWS",
    "RPC_REQUESTS",
    "RPC_RETRIES",
    "SECONDS_BEHIND",
    "SLOT_LAG",
    "SLOT_TO_ROW",
    "TIP_SLOT",
    "TRANSACTIONS",
    "WS_RECONNECTS",
]

REGISTRY = CollectorRegistry(auto_describe=True)

TRANSACTIONS = Counter("memefans_indexer_transactions", "transactions ingested", ["outcome"], registry=REGISTRY)
EVENTS = Counter("memefans_indexer_events", "decoded events ingested", ["program", "name"], registry=REGISTRY)
ROWS = Counter("memefans_indexer_rows", "rows upserted", ["table"], registry=REGISTRY)
BATCHES = Counter("memefans_indexer_batches", "batches committed", registry=REGISTRY)
DEAD_LETTERS = Counter(
    "memefans_indexer_dead_letters", "inputs sent to the dead-letter table", ["stage"], registry=REGISTRY
)
ERRORS = Counter("memefans_indexer_errors", "errors the indexer recovered from", ["kind"], registry=REGISTRY)
RPC_REQUESTS = Counter("memefans_indexer_rpc_requests", "JSON-RPC HTTP requests", ["method"], registry=REGISTRY)
RPC_RETRIES = Counter("memefans_indexer_rpc_retries", "JSON-RPC retries", ["reason"], registry=REGISTRY)
WS_RECONNECTS = Counter("memefans_indexer_ws_reconnects", "websocket reconnects", registry=REGISTRY)
GAPS = Counter("memefans_indexer_gaps", "gaps detected and backfilled", ["reason"], registry=REGISTRY)
CURSOR_SLOT = Gauge("memefans_indexer_cursor_slot", "the slot of the committed cursor", registry=REGISTRY)
TIP_SLOT = Gauge("memefans_indexer_tip_slot", "the chain's confirmed slot as last seen", registry=REGISTRY)
SLOT_LAG = Gauge("memefans_indexer_slot_lag", "tip slot minus cursor slot", registry=REGISTRY)
SECONDS_BEHIND = Gauge("memefans_indexer_seconds_behind", "now minus the block time of the cursor", registry=REGISTRY)
SLOT_TO_ROW = Histogram(
    "memefans_indexer_slot_to_row_seconds",
    "from a transaction's block time to its rows committed",
    buckets=(0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6),
    registry=REGISTRY,
)
