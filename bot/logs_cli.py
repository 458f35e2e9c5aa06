"""`bot logs ...`: export conversations, purge old ones, forget one person. Each run is audited."""
from __future__ import annotations

import argparse
import os
import sys
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.paths import default_database_url
from bot.store import audit, retention
from bot.store.conversations import prepare_database
from bot.store.db import session_scope


def _private_file(path: str):
    """An export holds conversations: readable by its owner only (0600), wherever it is written."""
    # never through a symbolic link, never into a file another user owns (they could read it after)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as e:  # a symbolic link (ELOOP), a folder, no permission
        raise SystemExit(f"error: cannot write {path}: {e.strerror}") from None
    if os.fstat(fd).st_uid != os.getuid():
        os.close(fd)
        raise SystemExit(f"error: {path} belongs to another user; choose a file of your own")
    os.ftruncate(fd, 0)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def _clinic_timezone() -> ZoneInfo:
    from bot import clinic

    try:
        return ZoneInfo(clinic.load().timezone)
    except clinic.ClinicConfigError:
        return ZoneInfo("UTC")


def since_date(text: str) -> datetime:
    """YYYY-MM-DD (start of that day in the clinic's time zone) or a full ISO date-time."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), _clinic_timezone())
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2024-05-31") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=_clinic_timezone())


def _database() -> str:
    url = default_database_url()
    prepare_database(url)
    return url


def cmd_export(args: argparse.Namespace) -> int:
    url = _database()
    out = _private_file(args.output) if args.output else sys.stdout
    try:
        with session_scope(url) as session:
            rows = retention.CountingRows(retention.export_messages(session, since=args.since))
            for chunk in retention.chunks(args.format, rows):
                out.write(chunk)
            out.flush()
            audit.record(session, audit.cli_actor(), "export.logs", target=args.output or "stdout",
                         detail={"format": args.format, "since": args.since.isoformat() if args.since else None,
                                 "messages": rows.count})
    finally:
        if args.output:
            out.close()
    where = args.output or "standard output"
    print(f"Exported {rows.count} messages as {args.format} to {where}.", file=sys.stderr if not args.output else sys.stdout)
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    url = _database()
    try:
        with session_scope(url) as session:
            counts = retention.purge_older_than(session, args.older_than, audit.cli_actor(), dry_run=args.dry_run,
                                                include_open=args.include_open)
    except retention.RetentionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    verb = "Would delete" if args.dry_run else "Deleted"
    print(f"{verb} {retention.describe_counts(counts)} older than {args.older_than} days. The audit log is kept.")
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    url = _database()
    try:
        with session_scope(url) as session:
            counts = retention.forget_sender(session, args.sender_id, audit.cli_actor())
    except retention.RetentionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not any(counts.values()):
        print(f"Nothing stored for {args.sender_id!r}; nothing deleted (the request is in the audit log).")
    else:
        print(f"Forgot {args.sender_id!r}: deleted {retention.describe_counts(counts)}. The audit log is kept.")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("logs", help="export, purge or forget conversation logs")
    sub = parser.add_subparsers(dest="logs_command", required=True)
    p = sub.add_parser("export", help="every user and bot message, one row each")
    p.add_argument("--format", choices=retention.FORMATS, default="csv")
    p.add_argument("--since", type=since_date, help="only messages from this date (clinic time) or ISO date-time")
    p.add_argument("--output", "-o", help="file to write (default: standard output)")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("purge", help="delete conversations and follow-up rows older than N days")
    p.add_argument("--older-than", type=int, required=True, metavar="DAYS")
    p.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    p.add_argument("--include-open", action="store_true",
                   help="also delete conversations whose red flag or callback is not closed yet (held back by default)")
    p.set_defaults(func=cmd_purge)
    p = sub.add_parser("forget", help="delete one person's conversation, red flags, callbacks and annotations")
    p.add_argument("sender_id")
    p.set_defaults(func=cmd_forget)
