"""api: the HTTP API the extension and other clients read (docs/ARCHITECTURE.md places it in the data flow)."""
