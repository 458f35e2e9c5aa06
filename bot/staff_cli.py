"""`bot staff ...`: manage staff console accounts from the command line (the first admin starts here)."""
from __future__ import annotations

import argparse
import getpass
import sys

from bot.paths import default_database_url
from bot.store import audit, staff
from bot.store.conversations import prepare_database
from bot.store.db import session_scope


def read_password(prompt: str = "Password") -> str:
    """From the terminal (asked twice, not echoed) or, when piped, the first line of stdin."""
    if sys.stdin.isatty():
        first = getpass.getpass(f"{prompt} (at least {staff.MIN_PASSWORD_LENGTH} characters): ")
        if getpass.getpass("Repeat it: ") != first:
            raise staff.StaffError("The two passwords differ.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _run(action) -> int:
    url = default_database_url()
    prepare_database(url)
    try:
        with session_scope(url) as session:
            message = action(session)
    except staff.StaffError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(message)
    return 0


def _user(session, username: str):
    user = staff.find_user(session, username)
    if user is None:
        raise staff.StaffError(f"There is no user named {username!r}.")
    return user


def cmd_add(args: argparse.Namespace) -> int:
    role = "admin" if args.admin else "staff"
    staff.validate_username(args.username)  # fail before asking for a password
    password = read_password()

    def add(session):
        user = staff.create_user(session, args.username, password, role)
        audit.record(session, audit.cli_actor(), "user.create", target=user.username, detail={"role": role})
        return f"Created {role} user {user.username!r}."

    return _run(add)


def cmd_passwd(args: argparse.Namespace) -> int:
    password = read_password("New password")

    def passwd(session):
        user = _user(session, args.username)
        staff.set_password(session, user, password)
        audit.record(session, audit.cli_actor(), "user.password", target=user.username)
        return f"New password set for {user.username!r}; their console sessions were ended."

    return _run(passwd)


def _update(action: str):
    def command(args: argparse.Namespace) -> int:
        def update(session):
            user = _user(session, args.username)
            if action == "unlock":
                staff.unlock(user)
            else:
                staff.set_active(session, user, action == "enable")
            audit.record(session, audit.cli_actor(), "user.update", target=user.username,
                         detail={"action": action, "role": user.role, "active": user.active})
            done = {"unlock": "unlocked", "enable": "enabled", "disable": "disabled"}.get(action, action)
            return f"{user.username!r}: {done}."

        return _run(update)

    return command


def cmd_list(args: argparse.Namespace) -> int:
    def listing(session):
        users = staff.list_users(session)
        if not users:
            return "No users yet. Add the first admin with: bot staff add NAME --admin"
        lines = [f"{'username':<24} {'role':<6} state"]
        for user in users:
            state = "disabled" if not user.active else "locked" if staff.is_locked(user) else "active"
            lines.append(f"{user.username:<24} {user.role:<6} {state}")
        return "\n".join(lines)

    return _run(listing)


def register(subparsers) -> None:
    parser = subparsers.add_parser("staff", help="manage staff console users")
    sub = parser.add_subparsers(dest="staff_command", required=True)
    p = sub.add_parser("add", help="add a user (password from stdin when piped, else asked for)")
    p.add_argument("username")
    p.add_argument("--admin", action="store_true", help="may manage users, export, purge and forget")
    p.set_defaults(func=cmd_add)
    p = sub.add_parser("passwd", help="set a new password (ends the user's sessions)")
    p.add_argument("username")
    p.set_defaults(func=cmd_passwd)
    for name, help_text in (("unlock", "lift a lock-out after failed sign-ins"),
                            ("disable", "block sign-in and end the user's sessions"),
                            ("enable", "allow sign-in again")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("username")
        p.set_defaults(func=_update(name))
    p = sub.add_parser("list", help="list users")
    p.set_defaults(func=cmd_list)
