"""routes: the API's route modules, /v1 data and the Solana Actions (docs/ARCHITECTURE.md)."""
