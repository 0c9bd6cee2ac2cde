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
