"""The `memefans` command: the one entry point that dispatches to each process's composition root."""
