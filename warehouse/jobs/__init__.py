"""jobs: scheduled analytics, anomaly rules and reconciliation over the warehouse (docs/ARCHITECTURE.md)."""
