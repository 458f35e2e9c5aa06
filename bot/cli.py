"""The `bot` command: train, serve, shell (and staff/log tools as they are added)."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from typing import List, Optional

# Modules that add sub-commands: each has register(subparsers).
_EXTRA_COMMANDS: List[str] = ["bot.logs_cli", "bot.staff_cli"]


def cmd_train(args: argparse.Namespace) -> int:
    from bot.training import ensure_trained

    ensure_trained(force=args.force)
    return 0


def _check_clinic() -> None:
    from bot import clinic

    try:
        clinic.load()
    except clinic.ClinicConfigError as e:
        raise SystemExit(f"[serve] cannot start: {e}") from None


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.paths import default_database_url
    from bot.stack import Stack, StackConfig, StartCancelled
    from bot.store import migrate
    from bot.training import ensure_trained

    _check_clinic()
    prod = args.profile == "prod"
    if prod:
        from bot import profiles

        database_url = profiles.prod_database_url()
        redis = profiles.RedisSettings.from_env()
        redis.check()
    else:
        database_url = default_database_url()
    model = ensure_trained()
    try:
        migrate.upgrade(database_url)
    except Exception as e:  # an unreachable database is the usual start-up failure: say which and why
        raise SystemExit(f"[serve] cannot prepare the database {_without_password(database_url)}: {e}") from None
    cfg = StackConfig(
        model=model,
        database_url=database_url,
        host=args.host,
        rasa_port=args.rasa_port,
        action_port=args.action_port,
        web_port=args.web_port,
        console_port=args.console_port,
        api_token=os.environ.get("RASA_API_TOKEN") or None,
    )
    if prod:
        cfg = profiles.prod_stack_config(cfg, [args.rasa_port_2], redis)
    stack = Stack(cfg)
    # The handlers go in before the first process starts: a signal then only sets a flag, so it can never
    # interrupt Popen half-way (a child started but not recorded) or land between start-up and the loop.
    stopping = {"now": False}

    def _stop(*_):
        stopping["now"] = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print("[serve] starting (the Rasa server needs about half a minute)...", flush=True)
    started = time.monotonic()
    try:
        stack.start(cancelled=lambda: stopping["now"])
        print(f"[serve] ready in {time.monotonic() - started:.0f} s", flush=True)
        for svc in stack.services:
            print(f"  {svc.name:<14} {svc.public_url}")
        print(f"  database       {_without_password(database_url)}")
        if prod:
            print(f"  lock store     {redis.describe()}")
        print("Press Ctrl-C to stop.", flush=True)
        while not stopping["now"]:
            for svc in stack.services:
                code = svc.exit_code()
                if code is not None:
                    print(f"[serve] {svc.name} stopped unexpectedly (exit {code}); see {svc.log_path}")
                    stopping["now"] = True
            time.sleep(0.5)
    except StartCancelled:
        pass  # stopped below, like any other stop
    finally:
        print("\n[serve] stopping...", flush=True)
        stack.stop()
        print("[serve] stopped.", flush=True)
    return 0


def _without_password(url: str) -> str:
    import sqlalchemy as sa

    return repr(sa.engine.make_url(url))  # SQLAlchemy masks the password as ***


def cmd_shell(args: argparse.Namespace) -> int:
    """A terminal conversation against the real servers (action server in the background)."""
    import subprocess

    from bot.paths import default_database_url
    from bot.stack import Stack, StackConfig, free_port
    from bot.training import ensure_trained

    _check_clinic()
    model = ensure_trained()
    cfg = StackConfig(model=model, database_url=default_database_url(), action_port=free_port(),
                      rasa_port=free_port(), with_web=False, with_console=False)
    stack = Stack(cfg)
    stack.services = [s for s in stack.services if s.name == "action server"]
    stack.start()
    try:
        rasa = os.path.join(os.path.dirname(sys.executable), "rasa")
        return subprocess.call([rasa, "shell", "--model", str(model), "--endpoints", str(cfg.endpoints)], env=cfg.env())
    finally:
        stack.stop()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot", description="Post-laminectomy syndrome clinic assistant")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train the model if data/config/domain changed")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("serve", help="start action server, Rasa server, chat page and console")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    p.add_argument("--profile", choices=("dev", "prod"), default=os.environ.get("BOT_PROFILE", "dev"),
                   help="dev: one Rasa server on SQLite; prod: two Rasa servers on PostgreSQL + Redis (README)")
    p.add_argument("--rasa-port-2", type=int, default=int(os.environ.get("RASA_PORT_2", 5006)),
                   help="the second Rasa server (prod profile)")
    p.add_argument("--action-port", type=int, default=int(os.environ.get("ACTION_PORT", 5055)))
    p.add_argument("--web-port", type=int, default=int(os.environ.get("WEB_PORT", 8080)))
    p.add_argument("--console-port", type=int, default=int(os.environ.get("CONSOLE_PORT", 8081)))
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("shell", help="chat in the terminal")
    p.set_defaults(func=cmd_shell)
    import importlib

    for module in _EXTRA_COMMANDS:
        try:
            importlib.import_module(module).register(sub)
        except ModuleNotFoundError as e:
            if e.name != module:
                raise
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
