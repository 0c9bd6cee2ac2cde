"""programs: the on-chain gift pool and the local chain it runs on (docs/ARCHITECTURE.md)."""
