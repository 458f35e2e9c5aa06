"""The model is retrained only when something that shapes it changes."""
import shutil

from bot import training
from bot.paths import ROOT


def copy_inputs(tmp_path):
    for path in training.input_files(ROOT):
        target = tmp_path / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return tmp_path


def test_fingerprint_is_stable_for_the_same_inputs(tmp_path):
    root = copy_inputs(tmp_path)
    assert training.fingerprint(root) == training.fingerprint(root) == training.fingerprint(ROOT)


def test_fingerprint_changes_when_training_data_config_or_domain_change(tmp_path):
    root = copy_inputs(tmp_path)
    before = training.fingerprint(root)
    for rel in ["data/nlu/core.yml", "config.yml", "domain.yml"]:
        path = root / rel
        original = path.read_text()
        path.write_text(original + "\n# changed\n")
        assert training.fingerprint(root) != before, rel
        path.write_text(original)
    assert training.fingerprint(root) == before


def test_fingerprint_changes_when_a_data_file_is_added(tmp_path):
    root = copy_inputs(tmp_path)
    before = training.fingerprint(root)
    (root / "data" / "nlu" / "extra.yml").write_text("version: '3.1'\nnlu: []\n")
    assert training.fingerprint(root) != before


def test_fingerprint_ignores_files_that_do_not_shape_the_model(tmp_path):
    root = copy_inputs(tmp_path)
    before = training.fingerprint(root)
    (root / "README.md").write_text("docs")
    (root / "clinic.yml").write_text("name: other")  # contact details are filled at run time, not trained
    assert training.fingerprint(root) == before


def test_a_current_model_is_reused_not_retrained(model_path, capsys):
    mtime = model_path.stat().st_mtime
    again = training.ensure_trained()
    assert again == model_path
    assert again.stat().st_mtime == mtime
    assert "model is current" in capsys.readouterr().out
