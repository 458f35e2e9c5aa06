"""Trains the Rasa model only when its inputs changed.

The model file is named by a hash of everything that shapes it (config, domain, training
data, our NLU component and policy code, the red-flag patterns), so tests and `make run` reuse it.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import time
from pathlib import Path
from typing import Iterable, List, Set

from bot.paths import MODELS, RASA_DATA, ROOT, SPACY_MODEL
from bot.rasa_launcher import rasa_command_prefix

INPUT_GLOBS = ("config.yml", "domain.yml", "data/**/*.yml", "bot/nlu/**/*.py", "bot/nlu/**/*.yml", "bot/policies/**/*.py")


def input_files(root: Path = ROOT) -> List[Path]:
    files: Set[Path] = set()
    for pattern in INPUT_GLOBS:
        files.update(p for p in root.glob(pattern) if p.is_file())
    return sorted(files)


def fingerprint(root: Path = ROOT, files: Iterable[Path] = ()) -> str:
    digest = hashlib.sha256()
    for path in list(files) or input_files(root):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    meta = SPACY_MODEL / "meta.json"
    if meta.exists():
        digest.update(meta.read_bytes())
    return digest.hexdigest()[:16]


def model_path(root: Path = ROOT) -> Path:
    return MODELS / f"clinic-{fingerprint(root)}.tar.gz"


def ensure_trained(force: bool = False) -> Path:
    """Return the path of an up-to-date model, training it first if needed (and the safety net,
    bot.nlu.safety_net, and the clause reader, bot.nlu.clause_focus, fitted into their caches, so that a
    server does not fit them while starting)."""
    from bot.nlu.clause_focus import ClauseReader
    from bot.nlu.safety_net import SafetyNet

    SafetyNet.fitted()
    ClauseReader.fitted()
    MODELS.mkdir(parents=True, exist_ok=True)
    target = model_path()
    with open(MODELS / ".train.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent callers wait for one training
        if target.exists() and not force:
            print(f"[train] model is current: {target.relative_to(ROOT)}", flush=True)
            return target
        print(f"[train] training {target.name} (data, config or domain changed)", flush=True)
        started = time.monotonic()
        cmd = [
            *rasa_command_prefix(), "train",  # = `rasa train`, without TensorFlow when the config needs none
            "--config", "config.yml", "--domain", "domain.yml", "--data", *RASA_DATA,
            "--out", str(MODELS), "--fixed-model-name", target.name[: -len(".tar.gz")],
        ]
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
        result = subprocess.run(cmd, cwd=ROOT, env=env)
        if result.returncode != 0 or not target.exists():
            raise SystemExit(f"[train] training failed (exit {result.returncode})")
        print(f"[train] done in {time.monotonic() - started:.1f} s: {target.relative_to(ROOT)}", flush=True)
        _prune_old_models(keep=target)
        return target


def _prune_old_models(keep: Path, max_models: int = 6) -> None:
    models = sorted(MODELS.glob("clinic-*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in models[max_models:]:
        if old != keep:
            old.unlink(missing_ok=True)
