"""`make bench`: this product against a stock Rasa peer, trained and served on this machine in one run.

Systems: this product (its config.yml, served as `make run` serves it), and the peer: the stock
`rasa init` config.yml (bench/peer_config.yml) trained on this product's own data and domain, served
as stock Rasa serves it (`rasa run`, Rasa's REST channel and SQL tracker store on SQLite:
bench/peer_endpoints.yml, bench/peer_credentials.yml). A third column serves the same peer model the
way this product is served (TensorFlow kept, since its model needs it), to show how much of the
difference is the serving and how much the pipeline. For each it measures:
- training time (cold Rasa cache; the product trained as `make train` does, the peer by `rasa train`),
- cold start (Rasa server process start -> first reply over REST),
- per-turn latency p50/p95/p99 with 1 person, and with 20 people at once who pause about a second
  between turns (a fast typist), over the REST channel,
- throughput: 20 people sending without pause (turns/s at saturation, with its latencies),
- resident memory of the Rasa server process (/proc, after the load: current and peak),
- in-process: NLU time per message, the red-flag detector's time per message, held-out accuracy.
All get the same action server, machine and load.
Prints a table and, last, `BENCH key=value ...`. Results are also saved in var/bench/.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Dict, List, Optional

from bench.load import LoadResult, run_load
from bot.paths import RASA_DATA, ROOT, VAR
from bot.rasa_launcher import rasa_command_prefix
from bot.stack import Stack, StackConfig, free_port, rasa_command, tail

PEER_CONFIG = Path(__file__).with_name("peer_config.yml")
PEER_ENDPOINTS = Path(__file__).with_name("peer_endpoints.yml")
PEER_CREDENTIALS = Path(__file__).with_name("peer_credentials.yml")
RESULTS_DIR = VAR / "bench"
TARGETS = {"p50_ms": 15.0, "p99_ms": 60.0, "rps_vs_peer": 3.0, "cold_s": 15.0, "rss_mb": 700.0, "train_s": 60.0}
USERS = 20


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def python_path() -> str:
    """The project first, then whatever the caller added (variant components for experiments)."""
    return os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)


def train(config: Path, workdir: Path, name: str, lean: bool) -> tuple[Path, float]:
    """Train with a cold Rasa cache (so the time is a real training time), into workdir: the product
    as `make train` trains it (bot.rasa_launcher: no TensorFlow for a config that needs none), the
    peer with plain `rasa train`."""
    config_copy = workdir / f"{name}-config.yml"  # `rasa train` may rewrite a config's comments
    shutil.copy(config, config_copy)
    env = {**os.environ, "PYTHONPATH": python_path(), "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false",
           "RASA_CACHE_DIRECTORY": str(workdir / f"cache-{name}")}
    cmd = [*rasa_command_prefix(lean), "train", "--config", str(config_copy), "--domain", "domain.yml",
           "--data", *RASA_DATA, "--out", str(workdir / "models"), "--fixed-model-name", name]
    log(f"training {name} ({config.name}) ...")
    started = time.monotonic()
    result = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.monotonic() - started
    model = workdir / "models" / f"{name}.tar.gz"
    if result.returncode != 0 or not model.exists():
        raise SystemExit(f"[bench] training {name} failed:\n{result.stdout[-4000:]}")
    log(f"trained {name} in {seconds:.1f} s")
    return model, seconds


def read_rss_mb(pid: int) -> Dict[str, float]:
    """Resident memory of a process and its children (Sanic may fork workers), from /proc."""
    pids = [pid] + _children(pid)
    current = peak = 0.0
    for p in pids:
        try:
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{p}/status").read_text().splitlines() if ":" in line)
        except FileNotFoundError:
            continue
        current += int(fields["VmRSS"].split()[0]) / 1024
        peak += int(fields["VmHWM"].split()[0]) / 1024
    return {"rss_mb": round(current, 1), "rss_peak_mb": round(peak, 1), "processes": len(pids)}


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process and its children used so far: unlike wall time, barely
    affected by other work on the machine, so it is the steadier figure for comparing variants."""
    total = 0.0
    for p in [pid] + _children(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def measured(pid: int, load) -> Dict[str, float]:
    """Run one load phase; its latency summary plus the server's CPU milliseconds per turn."""
    before = cpu_seconds(pid)
    result = load()
    summary = summarize(result)
    summary["cpu_ms_per_turn"] = round((cpu_seconds(pid) - before) * 1000 / max(1, result.turns + result.errors), 2)
    return summary


def _children(pid: int) -> List[int]:
    result = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = task / "children"
        if children.exists():
            for child in children.read_text().split():
                result += [int(child)] + _children(int(child))
    return result


def first_reply_seconds(url: str, process: subprocess.Popen, started: float, log_path: Path, timeout: float = 300) -> float:
    body = json.dumps({"sender": "bench-cold-start", "message": "hi"}).encode()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise SystemExit(f"[bench] Rasa server exited with {process.returncode}:\n{tail(log_path)}")
        request = urllib.request.Request(f"{url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                if response.status == 200 and json.loads(response.read()):
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"[bench] no reply within {timeout} s:\n{tail(log_path)}")


def summarize(result: LoadResult) -> Dict[str, float]:
    return {
        "turns": result.turns, "errors": result.errors, "users": result.users, "think_s": result.think_s,
        "p50_ms": round(result.percentile(50), 1), "p95_ms": round(result.percentile(95), 1),
        "p99_ms": round(result.percentile(99), 1), "rps": round(result.rps, 1), "wall_s": round(result.wall_s, 1),
    }


def median_run(runs: List[Dict[str, float]]) -> Dict[str, float]:
    """The median of each figure over repeated runs (and the spread of p50, to show the noise)."""
    merged = {key: round(statistics.median(r[key] for r in runs), 1) for key in runs[0] if isinstance(runs[0][key], (int, float))}
    merged["p50_runs"] = [r["p50_ms"] for r in runs]
    merged["rps_runs"] = [r["rps"] for r in runs]
    return merged


def serve_and_measure(name: str, model: Path, base: StackConfig, workdir: Path, args: argparse.Namespace) -> Dict[str, object]:
    cfg = replace(base, model=model, rasa_port=free_port())
    if not args.prod:
        cfg.database_url = f"sqlite:///{workdir / (name + '.db')}"
    if args.sanic_workers > 1:
        cfg.extra_env = {**cfg.extra_env, "SANIC_WORKERS": str(args.sanic_workers)}
    log_path = workdir / f"rasa-{name}.log"
    log(f"starting the {name} Rasa server ...")
    with open(log_path, "ab") as out:
        started = time.monotonic()
        process = subprocess.Popen(rasa_command(cfg, cfg.rasa_port), cwd=ROOT, env=cfg.env(), stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        cold_s = first_reply_seconds(cfg.rasa_url, process, started, log_path)
        log(f"{name}: first reply {cold_s:.1f} s after process start")
        run_load(cfg.rasa_url, users=1, turns_per_user=args.warmup_turns, tag=f"{name}-warm")
        one, paced, saturated = [], [], []
        for r in range(args.repeat):
            one.append(measured(process.pid, partial(run_load, cfg.rasa_url, 1, args.single_turns, tag=f"{name}-one{r}")))
            paced.append(measured(process.pid, partial(run_load, cfg.rasa_url, USERS, args.paced_turns, think_s=args.think,
                                                        tag=f"{name}-paced{r}")))
            saturated.append(measured(process.pid, partial(run_load, cfg.rasa_url, USERS, args.saturated_turns,
                                                           tag=f"{name}-sat{r}")))
            log(f"{name} run {r + 1}/{args.repeat}: 1 user p50 {one[-1]['p50_ms']} ms; 20 users p50 {paced[-1]['p50_ms']} "
                f"p99 {paced[-1]['p99_ms']} ms; saturated {saturated[-1]['rps']} turns/s; "
                f"server CPU {one[-1]['cpu_ms_per_turn']} ms/turn (load average {os.getloadavg()[0]:.1f})")
        memory = read_rss_mb(process.pid)
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
    return {"cold_s": round(cold_s, 2), "one_user": median_run(one), "paced": median_run(paced),
            "saturated": median_run(saturated), **memory}


def profile(model: Path) -> Optional[Dict[str, object]]:
    env = {**os.environ, "PYTHONPATH": python_path(), "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false",
           "LOG_LEVEL": "WARNING"}
    result = subprocess.run([sys.executable, "-m", "bench.profile_model", str(model)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = [line for line in result.stdout.splitlines() if line.startswith("PROFILE ")]
    if result.returncode != 0 or not lines:
        log(f"profiling {model.name} failed (exit {result.returncode})")
        return None
    return json.loads(lines[-1][len("PROFILE "):])


def red_flag_helper_line() -> Optional[str]:
    """bench/red_flags.py (the red-flag detector's own micro-benchmark), when the project has one."""
    if not (Path(__file__).with_name("red_flags.py")).exists():
        return None
    result = subprocess.run([sys.executable, "-m", "bench.red_flags"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": python_path(), "TF_CPP_MIN_LOG_LEVEL": "2"})
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    return lines[-1] if result.returncode == 0 and lines else f"bench.red_flags failed (exit {result.returncode})"


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def print_table(results: Dict[str, Dict[str, object]], args: argparse.Namespace) -> None:
    names = list(results)
    titles = {"product": "product", "peer": "peer: stock rasa init", "peer_product_serving": "peer, product serving"}

    def row(label: str, getter, target: str = "") -> None:
        cells = []
        for name in names:
            try:
                cells.append(getter(results[name]))
            except (KeyError, TypeError):
                cells.append("-")
        print(f"{label:<46}" + "".join(f"{c:>26}" for c in cells) + f"  {target}")

    def lat(key: str):
        return lambda r: f"{r[key]['p50_ms']:.1f} / {r[key]['p95_ms']:.1f} / {r[key]['p99_ms']:.1f}"

    print()
    print(f"{'':<46}" + "".join(f"{titles.get(n, n):>26}" for n in names) + "  target")
    row("training time, s (cold cache)", lambda r: fmt(r["train_s"]), f"<= {TARGETS['train_s']:.0f}")
    row("cold start: process start -> first reply, s", lambda r: fmt(r["serve"]["cold_s"]), f"<= {TARGETS['cold_s']:.0f}")
    row("RSS after load / peak, MB", lambda r: f"{r['serve']['rss_mb']:.0f} / {r['serve']['rss_peak_mb']:.0f}", f"<= {TARGETS['rss_mb']:.0f}")
    row("1 user: p50 / p95 / p99 ms", lambda r: lat("one_user")(r["serve"]))
    row(f"{USERS} users (~{args.think:g} s pauses): p50/p95/p99 ms", lambda r: lat("paced")(r["serve"]),
        f"p50 <= {TARGETS['p50_ms']:.0f}, p99 <= {TARGETS['p99_ms']:.0f}")
    row(f"{USERS} users, no pauses: p50/p95/p99 ms", lambda r: lat("saturated")(r["serve"]))
    row("server CPU per turn, ms (1 user; steadiest)", lambda r: fmt(r["serve"]["one_user"]["cpu_ms_per_turn"]))
    row("throughput at saturation, turns/s", lambda r: fmt(r["serve"]["saturated"]["rps"]), f">= {TARGETS['rps_vs_peer']:.0f}x peer")
    row("  (p50 of each repeat, 20 users)", lambda r: str(r["serve"]["paced"]["p50_runs"]))
    row("  (turns/s of each repeat)", lambda r: str(r["serve"]["saturated"]["rps_runs"]))
    row("errors (non-200 or apology replies)", lambda r: str(int(sum(r["serve"][k]["errors"] for k in ("one_user", "paced", "saturated")))))
    row("in-process: NLU parse, ms/message", lambda r: fmt(r["profile"]["parse_ms"], 2))
    row("in-process: whole turn, ms", lambda r: fmt(r["profile"]["turn_ms"], 2))
    row("red-flag detector, ms/message", lambda r: fmt(r["profile"]["red_flag_ms"], 3))
    row("held-out intent accuracy", lambda r: fmt(r["profile"]["heldout"]["accuracy"], 4))
    row("red-flag recall, same tier / any tier", lambda r: f"{r['profile']['red_flags']['recall_same_tier']:.4f} / "
                                                     f"{r['profile']['red_flags']['recall_any_tier']:.4f}")
    row("red-flag false positives (negatives)", lambda r: fmt(r["profile"]["red_flags"]["false_positive_rate"], 4))
    for name in [n for n in names if n != "peer_product_serving"]:  # the same model as "peer"
        nodes = (results[name].get("profile") or {}).get("nodes_ms") or {}
        top = ", ".join(f"{k} {v:.2f}" for k, v in list(nodes.items())[:6])
        print(f"  {name} slowest graph nodes (ms/turn): {top}")
    print(f"  load average before/after: {results[names[0]].get('loadavg_before')} / {os.getloadavg()[0]:.2f}"
          f" on {os.cpu_count()} CPUs (other work on the machine inflates every time)")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml", help="this product's config (variants: a copy)")
    parser.add_argument("--skip-peer", action="store_true", help="only this product (quick iterations)")
    parser.add_argument("--model", type=Path, help="serve this trained model instead of training one (implies --skip-peer)")
    parser.add_argument("--repeat", type=int, default=2, help="repeat the load phases (median reported)")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a person's turns, s")
    parser.add_argument("--warmup-turns", type=int, default=30)
    parser.add_argument("--single-turns", type=int, default=150)
    parser.add_argument("--paced-turns", type=int, default=15, help="turns per person in the paced 20-user phase")
    parser.add_argument("--saturated-turns", type=int, default=30, help="turns per person in the saturation phase")
    parser.add_argument("--prod", action="store_true",
                        help="serve with endpoints.prod.yml: DATABASE_URL (PostgreSQL) and Redis from the environment")
    parser.add_argument("--sanic-workers", type=int, default=1, help="Sanic workers per Rasa server (needs --prod)")
    parser.add_argument("--tensorflow", action="store_true",
                        help="train and start the product with plain `rasa train` / `rasa run` (TensorFlow loaded) instead of bot.rasa_launcher")
    parser.add_argument("--endpoints", type=Path, help="another endpoints file (e.g. a variant tracker store)")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra environment for the servers")
    parser.add_argument("--no-profile", action="store_true", help="skip the in-process profile and accuracy")
    parser.add_argument("--no-peer-on-product-serving", action="store_true",
                        help="skip the third column (the peer model served the way this product is)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (models, logs)")
    args = parser.parse_args(argv)

    loadavg_before = round(os.getloadavg()[0], 2)
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    systems = {"product": args.config} if args.skip_peer or args.model else {"product": args.config, "peer": PEER_CONFIG}
    results: Dict[str, Dict[str, object]] = {}
    base = StackConfig(model=Path("unused"), database_url=f"sqlite:///{workdir / 'actions.db'}", action_port=free_port(),
                       log_dir=workdir / "logs", with_web=False, with_console=False)
    if args.prod:
        from bot.profiles import prod_database_url, prod_stack_config

        base = prod_stack_config(replace(base, database_url=prod_database_url()), [])
    base = replace(base, lean_rasa=not args.tensorflow, endpoints=args.endpoints or base.endpoints,
                   extra_env={**base.extra_env, **dict(kv.split("=", 1) for kv in args.env)})
    actions = Stack(base)
    actions.services = [s for s in actions.services if s.name == "action server"]
    try:
        models = {}
        for name, config in systems.items():
            if args.model:
                models[name], train_s = args.model, None
            else:
                models[name], train_s = train(config, workdir, name, lean=name == "product" and not args.tensorflow)
            results[name] = {"train_s": train_s and round(train_s, 1), "config": str(config), "loadavg_before": loadavg_before}
        actions.start()
        servings = {"product": ("product", base)}
        if "peer" in models:
            stock = replace(base, lean_rasa=False, endpoints=PEER_ENDPOINTS, credentials=PEER_CREDENTIALS,
                            extra_env={**base.extra_env, "PEER_SQLITE_DB": str(workdir / "peer-stock.db")})
            servings["peer"] = ("peer", stock)
            if not args.no_peer_on_product_serving:
                servings["peer_product_serving"] = ("peer", base)
                results["peer_product_serving"] = dict(results["peer"])
        for name, (model_name, serving) in servings.items():
            results[name]["serve"] = serve_and_measure(name, models[model_name], serving, workdir, args)
        for name, model in models.items():
            if not args.no_profile:
                log(f"profiling {name} in-process ...")
                results[name]["profile"] = profile(model)
        if "peer_product_serving" in results:
            results["peer_product_serving"]["profile"] = results["peer"].get("profile")
        helper_line = red_flag_helper_line()
    finally:
        actions.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print_table(results, args)
    if helper_line:
        print(f"  bench/red_flags.py: {helper_line}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / time.strftime("bench-%Y%m%d-%H%M%S.json")
    out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": results}, indent=1))
    print(f"  saved {out}")
    print(bench_line(results))
    return 0


def bench_line(results: Dict[str, Dict[str, object]]) -> str:
    product = results["product"]
    peer = results.get("peer")
    fields = {
        "p50_ms": product["serve"]["paced"]["p50_ms"],
        "p99_ms": product["serve"]["paced"]["p99_ms"],
        "rps": product["serve"]["saturated"]["rps"],
        "cold_s": product["serve"]["cold_s"],
        "rss_mb": product["serve"]["rss_peak_mb"],
        "train_s": product["train_s"],
    }
    red_flag_ms = (product.get("profile") or {}).get("red_flag_ms")
    if red_flag_ms is not None:
        fields["red_flag_ms"] = red_flag_ms
    if peer:
        fields.update({"peer_p50_ms": peer["serve"]["paced"]["p50_ms"], "peer_rps": peer["serve"]["saturated"]["rps"],
                       "peer_cold_s": peer["serve"]["cold_s"]})
    return "BENCH " + " ".join(f"{k}={v}" for k, v in fields.items())


if __name__ == "__main__":
    sys.exit(main())
