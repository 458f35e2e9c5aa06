"""The red-flag detector's time per message, over every test phrasing (not asserted by tests).

    .venv/bin/python -m bench.red_flags [--repeat 5]

Prints load time, mean / p50 / p99 / max per message (short messages and a 20,000-character one
measured apart), recall and false positives on the test sets, and last one summary line.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the shared test phrasings

import red_flag_cases as cases  # noqa: E402
from bot.nlu.red_flag_matcher import RedFlagMatcher  # noqa: E402


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="passes over the phrasings")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    detector = RedFlagMatcher()
    load_s = time.perf_counter() - started
    texts = cases.all_texts()
    for text in texts:  # warm caches (typo corrections) as a running server would have them
        detector.detect(text)
    timings: List[float] = []
    for _ in range(args.repeat):
        for text in texts:
            t0 = time.perf_counter()
            detector.detect(text)
            timings.append((time.perf_counter() - t0) * 1000)
    long_text = ("My back has been sore and I did my exercises today. " * 400)[:19_900] + " I can't pee."
    long_ms = []
    for _ in range(3):
        t0 = time.perf_counter()
        detector.detect(long_text)
        long_ms.append((time.perf_counter() - t0) * 1000)

    def classify(text):
        detection = detector.detect(text)
        return detection.tier, detection.categories

    score = cases.score(classify)
    print(f"loaded in {load_s:.2f} s ({detector.pattern_count} pattern groups)")
    print(f"{len(texts)} phrasings x {args.repeat}: mean {statistics.mean(timings):.3f} ms, "
          f"p50 {percentile(timings, 0.5):.3f} ms, p99 {percentile(timings, 0.99):.3f} ms, max {max(timings):.3f} ms")
    print(f"20,000-character message: {min(long_ms):.1f} ms")
    print(score.report("detector on the test sets"))
    print(f"RED_FLAGS mean_ms={statistics.mean(timings):.3f} p99_ms={percentile(timings, 0.99):.3f} "
          f"long_message_ms={min(long_ms):.1f} recall={score.recall:.4f} false_positive_rate={score.false_positive_rate:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
