"""gift_pool: see ../shared/DESIGN.md for its place in the data flow."""
