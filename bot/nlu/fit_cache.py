"""Small models fitted from the project's YAML data, kept on disk under build/ so that a server starts
without refitting: one file per (data, settings, code) fingerprint. Used by the safety net and the
clause reader; a half-written or foreign file is fitted again. OncePerProcess keeps one of each (and
the red-flag matcher) per process.
"""
from __future__ import annotations

import hashlib
import json
import pickle
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Sequence, Type, TypeVar

T = TypeVar("T")


def load_or_fit(kind: Type[T], files: Sequence[Path], settings: Dict, code: Path, cache_dir: Path, fit: Callable[[], T]) -> T:
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    digest.update(code.read_bytes())  # how the data is read and the model built
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    cached = cache_dir / f"{digest.hexdigest()[:16]}.pickle"
    if cached.exists():
        try:
            with cached.open("rb") as handle:
                model = pickle.load(handle)
            if isinstance(model, kind):
                return model
        except Exception:  # a half-written or foreign file: fit again
            pass
    model = fit()
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{id(model)}.tmp")
    with partial.open("wb") as handle:
        pickle.dump(model, handle)
    partial.replace(cached)
    return model


class OncePerProcess:
    """`shared()`: one instance per process and class, built on first use under a lock (a server's
    threads share it). Subclasses say how it is built in `_build` (default: no arguments)."""

    _lock = threading.Lock()
    _shared_instance: Any  # only declared: shared() sets it on each subclass (read from the class's own __dict__)

    @classmethod
    def _build(cls):
        return cls()

    @classmethod
    def shared(cls):
        with OncePerProcess._lock:
            instance = cls.__dict__.get("_shared_instance")
            if instance is None:
                instance = cls._build()
                cls._shared_instance = instance
            return instance
