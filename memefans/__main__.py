"""`python -m memefans` is the same as the `memefans` command."""

from memefans.cli import main

raise SystemExit(main())
