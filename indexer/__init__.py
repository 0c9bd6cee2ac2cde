"""indexer: chain transactions to warehouse rows, exactly once (docs/ARCHITECTURE.md places it in the data flow)."""
