"""pages: the creator's page (creator.py) and the admins' pages (admin.py) of the dashboard (docs/ARCHITECTURE.md)."""
