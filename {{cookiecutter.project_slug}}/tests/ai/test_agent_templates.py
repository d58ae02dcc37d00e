"""The template catalog: the shipped files, a bad file, and names that leave the folder."""

from __future__ import annotations

import shutil
from pathlib import Path

from app.ai.agent_templates import AgentTemplateCatalog
from app.core.config import Settings

SHIPPED = {
    "analyst",
    "architect",
    "developer",
    "researcher",
    "sql-analyst",
    "support-assistant",
    "tester",
}


def test_every_shipped_template_is_valid(settings: Settings) -> None:
    catalog = AgentTemplateCatalog(settings.agent_templates_dir)

    templates = {template.name: template for template in catalog.all()}

    assert set(templates) >= SHIPPED
    assert templates["researcher"].tools == ["http_fetch"]
    assert templates["sql-analyst"].tools == ["sql_query"]
    assert all(template.system_prompt.strip() for template in templates.values())


def test_a_bad_file_is_left_out_and_hides_nothing_else(tmp_path: Path, settings: Settings) -> None:
    shutil.copy(settings.agent_templates_dir / "analyst.toml", tmp_path)
    (tmp_path / "broken.toml").write_text('description = "unterminated\n')
    (tmp_path / "typo.toml").write_text('description = "x"\nsystem_promt = "misspelt"\n')
    (tmp_path / "cold.toml").write_text('description = "x"\ntemperature = 9\n')
    catalog = AgentTemplateCatalog(tmp_path)

    assert [template.name for template in catalog.all()] == ["analyst"]
    assert catalog.get("broken") is None
    assert catalog.get("typo") is None


def test_names_cannot_reach_outside_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (tmp_path / "secret.toml").write_text('description = "outside"\n')
    catalog = AgentTemplateCatalog(folder)

    assert catalog.get("../secret") is None
    assert catalog.get("Secret") is None
    assert AgentTemplateCatalog(tmp_path / "missing").all() == []
