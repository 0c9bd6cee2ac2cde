"""dashboards: the Dash app for creators and admins (docs/ARCHITECTURE.md places it in the data flow)."""
