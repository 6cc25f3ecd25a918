"""The avc2sage command line: every command has help, global locations override the environment."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from orchestration.cli import main


def every_command(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    commands = []
    for name, command in group.commands.items():
        commands.append((*prefix, name))
        if isinstance(command, click.Group):
            commands += every_command(command, (*prefix, name))
    return commands


@pytest.mark.parametrize("command", every_command(main), ids=" ".join)
def test_every_command_has_help(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output
    docstring_first_words = result.output.split("\n\n")[1].strip()
    assert len(docstring_first_words) > 20, f"{' '.join(command)} needs a real description"


def test_the_commands_people_need_exist() -> None:
    assert {
        ("sage-sandbox",),
        ("scenario", "generate"),
        ("scenario", "load"),
        ("demo",),
        ("run",),
        ("sql",),
        ("sage-login",),
        ("check-config",),
        ("bench",),
        ("sage-summary",),
    } <= set(every_command(main))


def test_global_flags_override_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AVC2SAGE_WAREHOUSE", str(tmp_path / "from-env.duckdb"))
    monkeypatch.setenv("AVC2SAGE_SAGE_URL", "http://127.0.0.1:1/env/")
    result = CliRunner().invoke(
        main,
        ["--warehouse", str(tmp_path / "from-flag.duckdb"), "--sage-url", "http://127.0.0.1:2/flag/", "check-config"],
    )
    assert result.exit_code == 0, result.output
    assert f"AVC2SAGE_WAREHOUSE={tmp_path / 'from-flag.duckdb'}" in result.output
    assert "AVC2SAGE_SAGE_URL=http://127.0.0.1:2/flag/" in result.output


def test_an_invalid_setting_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(
        (Path(__file__).parents[2] / "avc2sage.example.toml").read_text().replace('clearing = "AMZCLR"', "")
    )
    result = CliRunner().invoke(main, ["--config", str(broken), "check-config"])
    assert result.exit_code != 0
    assert "banks.clearing" in result.output


def test_a_bad_sage_url_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["--sage-url", "ftp://nowhere", "check-config"])
    assert result.exit_code == 2
    assert "sage" in result.output.lower()


def test_sql_without_a_snapshot_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--warehouse", str(tmp_path / "w.duckdb"), "sql", "-c", "select 1"])
    assert result.exit_code == 1
    assert "avc2sage run" in result.output
