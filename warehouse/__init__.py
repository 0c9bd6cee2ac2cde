"""warehouse: the PostgreSQL schema, its write side, its read side and the jobs (docs/ARCHITECTURE.md)."""
