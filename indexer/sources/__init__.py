"""sources: where transactions come from (a cluster's backfill, its live stream, files), as batches with cursors."""

from indexer.sources.backfill import BackfillSource
from indexer.sources.base import Batch, Cursor, FetchedTransaction, Source, SourceError
from indexer.sources.live import LiveSource
from indexer.sources.replay import ReplaySource, read_transactions
from indexer.sources.rpc import RpcClient

__all__ = [
    "BackfillSource",
    "Batch",
    "Cursor",
    "FetchedTransaction",
    "LiveSource",
    "ReplaySource",
    "RpcClient",
    "Source",
    "SourceError",
    "read_transactions",
]
