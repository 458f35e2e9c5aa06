"""Runs a blind understanding set (issue #13) against a running Rasa server over REST, and scores it once
a judge who never saw the code has graded the transcript.

    python -m bench.blind_understanding run SET.jsonl --out TRANSCRIPT.jsonl [--url http://localhost:5005]
    python -m bench.blind_understanding score TRANSCRIPT.jsonl GRADES.jsonl

SET lines: {"id", "kind": question|compound|conversation, "voice", "turns": [{"text", "expect", "about",
"source"}]}; a conversation gets a fresh sender id. GRADES lines: {"id", "turn", "verdict": right|wrong,
"why"}. Neither file ever enters the repository (DEVELOPERS.md, Blind sets).
"""
from __future__ import annotations

import argparse
import json
import uuid
from collections import Counter
from pathlib import Path

import requests


def read_lines(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def run(args) -> int:
    out = []
    for conv in read_lines(args.set):
        sender = f"blind-{uuid.uuid4().hex}"
        turns = []
        for turn in conv["turns"]:
            r = requests.post(f"{args.url}/webhooks/rest/webhook", json={"sender": sender, "message": turn["text"]}, timeout=60)
            replies = r.json() if r.status_code == 200 else [{"text": f"(HTTP {r.status_code})"}]
            turns.append({**turn, "replies": [
                {"text": m.get("text", ""), "buttons": [b.get("title") for b in m.get("buttons") or []],
                 "response": (m.get("metadata") or {}).get("response")} for m in replies]})
        out.append({**conv, "turns": turns})
    Path(args.out).write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in out), encoding="utf-8")
    print(f"{len(out)} conversations, {sum(len(c['turns']) for c in out)} turns -> {args.out}")
    return 0


def score(args) -> int:
    convs = {c["id"]: c for c in read_lines(args.transcript)}
    grades = {(g["id"], int(g["turn"])): g["verdict"] == "right" for g in read_lines(args.grades)}
    by = Counter()
    for cid, conv in convs.items():
        rights = []
        for index, turn in enumerate(conv["turns"]):
            right = grades.get((cid, index))
            if right is None:
                by["ungraded"] += 1
                continue
            rights.append(right)
            group = "contact" if turn["expect"] == "contact" else conv["kind"]
            by[(group, "n")] += 1
            by[(group, "right")] += right
            by[(f"expect:{turn['expect']}", "n")] += 1
            by[(f"expect:{turn['expect']}", "right")] += right
        if conv["kind"] == "conversation" and rights:
            by[("whole conversations", "n")] += 1
            by[("whole conversations", "right")] += all(rights)
    for group in sorted({g for g, _ in (k for k in by if isinstance(k, tuple))}):
        n, right = by[(group, "n")], by[(group, "right")]
        print(f"{group:<22} {right}/{n} ({100.0 * right / max(1, n):.1f}%)")
    if by["ungraded"]:
        print(f"ungraded turns: {by['ungraded']}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("set")
    r.add_argument("--out", required=True)
    r.add_argument("--url", default="http://localhost:5005")
    s = sub.add_parser("score")
    s.add_argument("transcript")
    s.add_argument("grades")
    args = ap.parse_args()
    return run(args) if args.command == "run" else score(args)


if __name__ == "__main__":
    raise SystemExit(main())
