"""The dialogue paths of tests/test_stories.yml, run by Rasa's own `rasa test core` against the trained
model (issue #13: test stories in Rasa's format, run by `make test`). A story whose predicted actions differ
from the story's is written by Rasa to failed_test_stories.yml; this test shows them."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.paths import ROOT

pytestmark = pytest.mark.timeout(900)

STORIES = ROOT / "tests" / "test_stories.yml"


def test_every_test_story_is_predicted_exactly(model_path, tmp_path):
    rasa = Path(sys.executable).with_name("rasa")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [str(rasa), "test", "core", "--stories", str(STORIES), "--model", str(model_path), "--out", str(tmp_path),
         "--fail-on-prediction-errors"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=850,
    )
    failed = (tmp_path / "failed_test_stories.yml")
    shown = failed.read_text(encoding="utf-8") if failed.exists() else result.stdout[-3000:] + result.stderr[-3000:]
    assert result.returncode == 0, shown
    stories = (yaml.safe_load(failed.read_text(encoding="utf-8")) or {}).get("stories") if failed.exists() else None
    assert not stories, shown
    assert len(yaml.safe_load(STORIES.read_text(encoding="utf-8"))["stories"]) >= 7
