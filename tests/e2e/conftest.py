"""Fixtures the end-to-end tests of every front share."""

from __future__ import annotations

import pytest
import yaml


@pytest.fixture
def models_yaml(service):
    """Hand-edit the running service's models.yaml (picked up without a restart)."""
    path = service.config_dir / "models.yaml"

    def write(models: dict) -> None:
        path.write_text(yaml.safe_dump({"models": models}))

    yield write
    path.unlink(missing_ok=True)
