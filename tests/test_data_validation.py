"""`rasa data validate` is part of the test suite: broken stories, rules or domain fail the build."""
import subprocess
import sys
from pathlib import Path

from bot.paths import RASA_DATA, ROOT


def test_rasa_data_validate_passes():
    rasa = str(Path(sys.executable).with_name("rasa"))
    result = subprocess.run(
        [rasa, "data", "validate", "--domain", "domain.yml", "--data", *RASA_DATA, "--config", "config.yml"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "ERROR" not in output, output[-4000:]
