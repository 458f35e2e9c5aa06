"""Builds the blank English spaCy pipeline with a lookup lemmatizer.

The official English models cannot be downloaded on our machines; a blank pipeline plus
the lemma lookup tables from spacy-lookups-data gives Rasa's SpacyNLP tokens and lemmas,
which is all our featurizers and the red-flag matcher need.
"""
import argparse
import shutil
import sys
from pathlib import Path

from bot.paths import SPACY_MODEL


def build(target: Path = SPACY_MODEL) -> Path:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    nlp.meta["name"] = "blank_lookup"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    nlp.to_disk(tmp)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--if-missing", action="store_true", help="do nothing if already built")
    parser.add_argument("--target", type=Path, default=SPACY_MODEL)
    args = parser.parse_args(argv)
    if args.if_missing and (args.target / "meta.json").exists():
        return 0
    print(f"[setup] building spaCy pipeline into {args.target}")
    build(args.target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
