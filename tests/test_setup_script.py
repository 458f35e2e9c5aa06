"""The setup step finds Python 3.10 itself, or says clearly what to install."""
import os
import shutil
import subprocess
import sys

from bot.paths import ROOT

BASIC_TOOLS = ("cat", "sha256sum", "cut", "ls", "sort", "rm", "mkdir", "dirname", "printf")


def bin_dir_with_basic_tools(path):
    """A PATH folder with the shell tools setup.sh needs, and no Python at all."""
    path.mkdir()
    for tool in BASIC_TOOLS:
        found = shutil.which(tool)
        if found:
            os.symlink(found, path / tool)
    return path


def run_setup_in(tmp_path, env_path: str, pyenv_root: str, *args: str):
    shutil.copytree(ROOT / "scripts", tmp_path / "scripts")
    for name in ("requirements.lock", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    env = {"PATH": env_path, "HOME": str(tmp_path), "PYENV_ROOT": pyenv_root}
    return subprocess.run(["/bin/bash", str(tmp_path / "scripts" / "setup.sh"), *args], env=env, capture_output=True, text=True, timeout=120)


def test_without_python_310_setup_stops_with_a_message_saying_what_to_install(tmp_path):
    empty_bin = bin_dir_with_basic_tools(tmp_path / "bin")
    result = run_setup_in(tmp_path, str(empty_bin), str(tmp_path / "no-pyenv"))
    assert result.returncode == 1
    assert "Python 3.10 was not found" in result.stderr
    assert "pyenv install 3.10" in result.stderr
    assert not (tmp_path / ".venv").exists()


def test_setup_finds_a_pyenv_310_when_path_has_none(tmp_path):
    """PATH without Python 3.10, but a pyenv-style versions/3.10.x folder: setup picks it."""
    fake_root = tmp_path / "pyenv"
    bin_dir = fake_root / "versions" / "3.10.99" / "bin"
    bin_dir.mkdir(parents=True)
    os.symlink(sys.executable, bin_dir / "python")  # the venv's 3.10 stands in for pyenv's
    empty_bin = bin_dir_with_basic_tools(tmp_path / "bin")
    result = run_setup_in(tmp_path, str(empty_bin), str(fake_root), "--find-python")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(bin_dir / "python")


def test_a_python_311_on_path_is_not_taken_for_310(tmp_path):
    import glob

    py311 = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.11.*/bin/python3")) + ["/usr/bin/python3"])
    py311 = [p for p in py311 if os.path.exists(p) and "3.10" not in subprocess.run([p, "--version"], capture_output=True, text=True).stdout]
    assert py311, "this machine has a non-3.10 python3 to test with"
    fake_bin = bin_dir_with_basic_tools(tmp_path / "pathbin")
    os.symlink(py311[0], fake_bin / "python3")
    result = run_setup_in(tmp_path, str(fake_bin), str(tmp_path / "none"), "--find-python")
    assert result.returncode == 1 and "Python 3.10 was not found" in result.stderr
