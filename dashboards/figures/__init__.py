"""figures: pure DataFrame -> plotly Figure functions for the dashboard pages (docs/ARCHITECTURE.md)."""
