"""gift_pool: the on-chain program, its build, its IDL and a Python client (docs/ARCHITECTURE.md, README.md)."""
