"""The settings the remittance posting and its dbt models read: `approval.auto_approve`, and the business rules
published for dbt as text."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.app import business_rules
from pipelines.settings import EXAMPLE_CONFIG, SettingsError, load_business_config


def configuration(tmp_path: Path, approval: str) -> Path:
    text = EXAMPLE_CONFIG.read_text()
    start = text.index("[approval]")
    path = tmp_path / "avc2sage.toml"
    path.write_text(text[:start] + approval)
    return path


def test_auto_approve_is_off_unless_the_configuration_turns_it_on(tmp_path: Path) -> None:
    left_out = configuration(tmp_path, '[approval]\nposting_threshold = "5000.00"\n')
    assert load_business_config(left_out).approval.auto_approve is False
    turned_on = configuration(tmp_path, '[approval]\nposting_threshold = "5000.00"\nauto_approve = true\n')
    assert load_business_config(turned_on).approval.auto_approve is True
    assert load_business_config(EXAMPLE_CONFIG).approval.auto_approve is False


def test_auto_approve_must_be_true_or_false(tmp_path: Path) -> None:
    quoted = configuration(tmp_path, '[approval]\nposting_threshold = "5000.00"\nauto_approve = "yes"\n')
    with pytest.raises(SettingsError, match=r"approval\.auto_approve must be true or false"):
        load_business_config(quoted)


def test_the_rules_dbt_applies_are_published_as_text(tmp_path: Path) -> None:
    config = load_business_config(
        configuration(tmp_path, '[approval]\nposting_threshold = "2500.50"\nauto_approve = true\n')
    )
    rules = {row["setting"]: row["value"] for row in business_rules(config)}
    assert rules["approval.posting_threshold"] == "2500.50"
    assert rules["approval.auto_approve"] == "true"
    assert rules["banks.use_in_transit"] == "false"
