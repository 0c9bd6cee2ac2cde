"""The console script dispatches to each subcommand's module and refuses unknown commands."""

from __future__ import annotations

import importlib

import pytest

from memefans.cli import COMMANDS, main


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


def test_unknown_command_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-command"]) == 2
    assert "unknown command 'no-such-command'" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_target_exists(name: str) -> None:
    module_name, _, func_name = COMMANDS[name][0].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:  # pragma: no cover - the message names what is missing
        pytest.fail(f"{name}: {exc}")
    assert callable(getattr(module, func_name))


def test_the_backfill_progress_bar_shows_done_total_rate_and_eta() -> None:
    import io
    import re

    from indexer.cli import Progress
    from indexer.pipeline import Stats
    from indexer.sources.base import Batch, Cursor

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    progress = Progress(screen)
    stats = Stats(transactions=250, events=400)
    stats.started -= 5.0  # 250 transactions in five seconds: 50 a second
    progress(Batch((), Cursor(10, "s"), 20, backfill=True, remaining=750), stats)
    first = screen.getvalue()
    assert first.startswith("\rbackfill [#######.......................] 250/1000 tx  ")
    shown = re.search(r"250/1000 tx  (\d+) tx/s  400 events  ETA ([\d.]+) s$", first)
    assert shown is not None, first
    assert 45 <= int(shown.group(1)) <= 50 and 15.0 <= float(shown.group(2)) <= 16.7  # a slow machine is slower
    stats.transactions = 1000
    progress(Batch((), Cursor(20, "t"), 20, backfill=True, remaining=0), stats)  # the last batch always shows
    assert screen.getvalue().rsplit("\r", 1)[1].startswith("backfill [##############################] 1000/1000 tx")
    progress(Batch((), None, 21, backfill=False), stats)  # live: the bar's line is ended once
    progress(Batch((), None, 22, backfill=False), stats)
    assert screen.getvalue().endswith("ETA 0.0 s\n")
