"""The staff console (http://127.0.0.1:8081/): review conversations, follow up red flags and callbacks.

Roles: `staff` read conversations, acknowledge/close red flags and callbacks, annotate intents;
`admin` also manage users, export, purge and forget, and read the audit log. Every page needs a
signed-in user; every view of health information and every change is an audit row.
The pages are plain HTML forms (no JavaScript), rendered by Jinja2 with autoescaping.
"""
from __future__ import annotations

import argparse
import logging
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import jinja2
import sqlalchemy as sa
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.paths import default_database_url
from bot.store import annotations as nlu_annotations
from bot.store import audit, conversations, followup, retention, staff
from bot.store.db import engine_for, session_scope
from bot.store.models import CallbackRequest, RedFlagEvent, StaffSession, StaffUser
from bot.web.login_throttle import LoginThrottle
from bot.web.console_security import CookieJar, SecurityHeadersMiddleware, client_ip, load_secret, same_origin, tokens_match

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates" / "console"
STATIC = HERE / "console_static"
HOME = "/conversations"


@dataclass
class Ctx:
    """One request as the page handlers see it: who, from where, with which form, in which transaction."""

    request: Request
    db: Session
    form: Optional[FormData]
    user: Optional[StaffUser]
    session_row: Optional[StaffSession]
    csrf: str
    ip: str
    new_presession: bool = False
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        return self.user.username if self.user else "anonymous"

    @property
    def is_admin(self) -> bool:
        return bool(self.user and self.user.role == "admin")

    def param(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default)

    def field(self, name: str, default: str = "") -> str:
        value = self.form.get(name, default) if self.form is not None else default
        return value if isinstance(value, str) else default


def safe_next(url: Optional[str], default: str = HOME) -> str:
    """Only local paths: never redirect a signed-in person to another site."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return default
    return url


def transcript_url(sender_id: str) -> str:
    return "/conversations/" + quote(sender_id, safe="")


class Console:
    def __init__(self, database_url: str, secret: str, secure_cookies: bool = False, timezone_name: str = "UTC") -> None:
        self.database_url = database_url
        self.jar = CookieJar(secret, secure=secure_cookies)
        self.throttle = LoginThrottle.from_env()
        self.tz = ZoneInfo(timezone_name)
        self.timezone_name = timezone_name
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)),
            autoescape=True,  # every value is HTML-escaped unless a template says otherwise (none does)
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["local"] = self.local_time
        self.env.filters["confidence"] = lambda v: "" if v is None else f"{v:.2f}"
        self.env.globals.update(transcript_url=transcript_url, BADGES=conversations.BADGES,
                                RED_FLAG_STATUSES=followup.RED_FLAG_STATUSES,
                                CALLBACK_STATUSES=followup.CALLBACK_STATUSES, MIN_PASSWORD=staff.MIN_PASSWORD_LENGTH)

    def local_time(self, value: Optional[datetime]) -> str:
        """Times are stored in UTC; staff read them in the clinic's time zone."""
        if value is None:
            return ""
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    # --- responses -------------------------------------------------------------------------------

    def render(self, ctx: Ctx, name: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        flash = self.jar.read_flash(ctx.request)
        counts = {}
        if ctx.user:
            counts = {
                "red_flags": ctx.db.query(RedFlagEvent).filter(RedFlagEvent.status == "new").count(),
                "callbacks": ctx.db.query(CallbackRequest).filter(CallbackRequest.status == "new").count(),
            }
        html = self.env.get_template(name).render(
            user=ctx.user, csrf=ctx.csrf, flash=flash, counts=counts, path=ctx.request.url.path,
            timezone=self.timezone_name, **values
        )
        response = HTMLResponse(html, status_code=status_code)
        if flash:
            self.jar.clear_flash(response)
        return response

    def redirect(self, url: str, message: Optional[str] = None, kind: str = "info") -> RedirectResponse:
        response = RedirectResponse(url, status_code=303)
        if message:
            self.jar.set_flash(response, message, kind)
        return response

    def error(self, ctx: Ctx, status: int, title: str, message: str) -> HTMLResponse:
        return self.render(ctx, "error.html", status_code=status, title=title, message=message)

    # --- the wrapper every page goes through -----------------------------------------------------

    def page(self, handler: Callable[["Console", Ctx], Response], role: Optional[str] = "staff"):
        """Wraps a handler: parses the form, opens the transaction, checks sign-in, CSRF and role."""

        async def endpoint(request: Request) -> Response:
            form = await request.form(max_files=0, max_fields=50) if request.method == "POST" else None
            try:
                return await run_in_threadpool(self._handle, handler, role, request, form)
            finally:
                if form is not None:
                    await form.close()

        return endpoint

    def _handle(self, handler, role: Optional[str], request: Request, form: Optional[FormData]) -> Response:
        with session_scope(self.database_url) as db:
            ctx = self._context(request, db, form)
            if role and ctx.user is None:
                response = self._to_login(request)
            elif request.method == "POST" and not (
                same_origin(request) and tokens_match(ctx.csrf, ctx.field("csrf_token"))
            ):
                response = self.error(ctx, 403, "Request refused",
                                      "This form has expired or did not come from the console. "
                                      "Go back, reload the page and try again.")
            elif role == "admin" and not ctx.is_admin:
                response = self.error(ctx, 403, "Admins only", "Only an admin can do this.")
            else:
                try:
                    response = handler(self, ctx)
                except BadRequest as e:
                    response = self.error(ctx, 400, "Bad request", str(e))
                except staff.HashingBusy:
                    response = self.error(ctx, 503, "Busy", "The console is busy signing other people in. "
                                          "Wait a few seconds and try again.")
            if ctx.new_presession:
                self.jar.set_presession(response, ctx.csrf)
            return response

    def _context(self, request: Request, db: Session, form: Optional[FormData]) -> Ctx:
        ip = client_ip(request)
        token = self.jar.session_token(request)
        loaded = staff.load_session(db, token) if token else None
        if loaded:
            user, row = loaded
            return Ctx(request, db, form, user, row, row.csrf_token, ip)
        presession = self.jar.presession_token(request)
        ctx = Ctx(request, db, form, None, None, presession or secrets.token_urlsafe(32), ip)
        ctx.new_presession = presession is None
        return ctx

    def _to_login(self, request: Request) -> Response:
        target = "/login"
        if request.method == "GET" and request.url.path not in ("/", "/login"):
            wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            target += "?" + urlencode({"next": wanted})
        response = RedirectResponse(target, status_code=303)
        if request.cookies.get("console_session"):
            self.jar.clear_session(response)  # expired or revoked: drop it
        return response


# --- sign in / out -------------------------------------------------------------------------------

# One answer for every refusal (unknown name, wrong password, locked account, too many tries), so the
# page never tells which usernames exist.
LOGIN_REFUSED = ("Wrong username or password. After repeated failures, sign-in pauses for "
                 f"{int(staff.LOCKOUT.total_seconds() // 60)} minutes; an admin can unlock an account sooner.")


def login_form(c: Console, ctx: Ctx) -> Response:
    if ctx.user:
        return c.redirect(safe_next(ctx.param("next")))
    return c.render(ctx, "login.html", next=safe_next(ctx.param("next")), error=None, username="")


def login_submit(c: Console, ctx: Ctx) -> Response:
    username = ctx.field("username").strip()[:64].strip()  # cut, then strip: padding made new "names"
    next_url = safe_next(ctx.field("next"))
    if not c.throttle.begin(ctx.ip, username):
        audit.record(ctx.db, username or "(empty)", "login.throttled", target=username, ip=ctx.ip)
        return c.render(ctx, "login.html", status_code=401, next=next_url, error=LOGIN_REFUSED, username=username)
    result = staff.authenticate(ctx.db, username, ctx.field("password"))
    if result.ok and result.user is not None:  # an "ok" result always names its user
        c.throttle.succeeded(ctx.ip, username)
        staff.end_session(ctx.db, c.jar.session_token(ctx.request) or "")  # a browser holds one session
        token, _ = staff.start_session(ctx.db, result.user, ctx.ip)
        audit.record(ctx.db, result.user.username, "login.success", target=username, ip=ctx.ip)
        response = c.redirect(next_url)
        c.jar.set_session(response, token)
        return response
    if result.outcome == "locked":
        audit.record(ctx.db, username or "(empty)", "login.locked", target=username, ip=ctx.ip)
    else:
        reason = "unknown or disabled user" if result.user is None or not result.user.active else "wrong password"
        audit.record(ctx.db, username or "(empty)", "login.failure", target=username, detail={"reason": reason}, ip=ctx.ip)
    return c.render(ctx, "login.html", status_code=401, next=next_url, error=LOGIN_REFUSED, username=username)


def logout(c: Console, ctx: Ctx) -> Response:
    staff.end_session(ctx.db, c.jar.session_token(ctx.request) or "")
    audit.record(ctx.db, ctx.actor, "logout", ip=ctx.ip)
    response = c.redirect("/login", "You are signed out.")
    c.jar.clear_session(response)
    return response


def home(c: Console, ctx: Ctx) -> Response:
    return c.redirect(HOME)


# --- conversations -------------------------------------------------------------------------------

def _filter_from_query(c: Console, ctx: Ctx) -> tuple:
    errors: List[str] = []
    badges = tuple(b for b in ctx.request.query_params.getlist("badge") if b in conversations.BADGES)
    dates: Dict[str, Optional[date]] = {}
    for key, label in (("from", "From"), ("to", "To")):
        raw = ctx.param(key).strip()
        dates[key] = None
        if raw:
            try:
                given = date.fromisoformat(raw)
            except ValueError:
                errors.append(f"{label} date {raw!r} is not a date like 2024-05-31; it was ignored.")
                continue
            if DATE_YEARS[0] <= given.year <= DATE_YEARS[1]:
                dates[key] = given
            else:
                errors.append(f"{label} date {raw!r} is outside {DATE_YEARS[0]}-{DATE_YEARS[1]}; it was ignored.")
    flt = conversations.ConversationFilter(
        badges=badges, date_from=dates["from"], date_to=dates["to"], text=ctx.param("q").strip()[:200],
        timezone=c.timezone_name,
    )
    return flt, errors


def _filter_query(flt: conversations.ConversationFilter, **extra: Any) -> str:
    pairs = [("badge", b) for b in flt.badges]
    if flt.date_from:
        pairs.append(("from", flt.date_from.isoformat()))
    if flt.date_to:
        pairs.append(("to", flt.date_to.isoformat()))
    if flt.text:
        pairs.append(("q", flt.text))
    pairs.extend((k, str(v)) for k, v in extra.items())
    return urlencode(pairs)


MAX_PAGE = 10_000
MAX_ID = 2**31 - 1  # the id columns' range: a larger number names nothing (and SQLite cannot even bind it)
DATE_YEARS = (2000, 2100)


class BadRequest(ValueError):
    """A parameter out of range: answered 400 with the message (a huge page number once gave 500)."""


def _bounded_int(raw: str, high: int) -> Optional[int]:
    """A whole number from 1 to `high` written in ASCII digits, else None: "²" passes isdigit() but not
    int(), and int() refuses more than 4,300 digits (both once answered 500)."""
    raw = (raw or "").strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(high))):
        return None
    value = int(raw)
    return value if 1 <= value <= high else None


def _page_number(ctx: Ctx) -> int:
    number = _bounded_int(ctx.param("page", "1") or "1", MAX_PAGE)
    if number is None:
        raise BadRequest(f"Page must be a whole number from 1 to {MAX_PAGE:,}.")
    return number


def _path_id(ctx: Ctx, name: str) -> Optional[int]:
    """The id in the path, or None: the routes take any text there (Starlette's int converter raised on
    4,301 digits, a 500 even before the sign-in check)."""
    return _bounded_int(str(ctx.request.path_params[name]), MAX_ID)


def conversation_list(c: Console, ctx: Ctx) -> Response:
    flt, errors = _filter_from_query(c, ctx)
    page_number = _page_number(ctx)
    page = conversations.list_conversations(ctx.db, flt, page=page_number)
    if flt.text:
        audit.record(ctx.db, ctx.actor, "conversations.search", detail=flt.describe_for_audit(), ip=ctx.ip)
    return c.render(
        ctx, "conversations.html", page=page, flt=flt, errors=errors,
        page_url=lambda n: "/conversations?" + _filter_query(flt, page=n),
        export_url="/export/conversations.csv?" + _filter_query(flt),
    )


def transcript_page(c: Console, ctx: Ctx) -> Response:
    sender_id = ctx.request.path_params["sender_id"]
    found = conversations.transcript(ctx.db, sender_id)
    if found is None:
        return c.error(ctx, 404, "Conversation not found",
                       "There is no conversation with this id. It may have been purged or forgotten.")
    audit.record(ctx.db, ctx.actor, "transcript.view", target=sender_id, ip=ctx.ip)
    return c.render(ctx, "transcript.html", t=found, intents=nlu_annotations.known_intents(),
                    here=transcript_url(sender_id))


def annotate(c: Console, ctx: Ctx) -> Response:
    sender_id = ctx.field("sender_id")
    back = transcript_url(sender_id)
    try:
        event_id = _bounded_int(ctx.field("event_id"), MAX_ID)
        if event_id is None:
            raise ValueError("no such message")
        nlu_annotations.save(ctx.db, sender_id, event_id, ctx.field("intent"), ctx.actor, ctx.ip)
    except (ValueError, nlu_annotations.AnnotationError) as e:
        message = str(e) if isinstance(e, nlu_annotations.AnnotationError) else "That message could not be found."
        return c.redirect(back, message, "error")
    return c.redirect(f"{back}#turn-{event_id}", f"Saved: the message's intent is {ctx.field('intent')}.")


# --- follow-up queues ----------------------------------------------------------------------------

def _queue_page(kind: str, template: str, view_action: str):
    def handler(c: Console, ctx: Ctx) -> Response:
        status = ctx.param("status", followup.OPEN)
        try:
            items = followup.queue(ctx.db, kind, status)
        except followup.FollowUpError:
            status, items = followup.OPEN, followup.queue(ctx.db, kind, followup.OPEN)
        audit.record(ctx.db, ctx.actor, view_action, detail={"status": status, "shown": len(items)}, ip=ctx.ip)
        return c.render(ctx, template, items=items, status=status, here=f"{ctx.request.url.path}?status={status}")

    return handler


def _status_change(kind: str, default_back: str):
    def handler(c: Console, ctx: Ctx) -> Response:
        back = safe_next(ctx.field("next"), default_back)
        try:
            item = followup.set_status(ctx.db, kind, _path_id(ctx, "item_id") or 0, ctx.field("status"),
                                       ctx.actor, ctx.ip)
        except followup.FollowUpError as e:
            return c.redirect(back, str(e), "error")
        return c.redirect(back, f"Marked {item.status} by {ctx.actor}.")

    return handler


# --- annotations ---------------------------------------------------------------------------------

def annotation_list(c: Console, ctx: Ctx) -> Response:
    items = nlu_annotations.list_all(ctx.db)
    audit.record(ctx.db, ctx.actor, "annotations.view", detail={"shown": len(items)}, ip=ctx.ip)
    return c.render(ctx, "annotations.html", items=items)


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


def export_annotations(c: Console, ctx: Ctx) -> Response:
    text = nlu_annotations.nlu_yaml(ctx.db)
    count = sum(1 for line in text.splitlines() if line.startswith("    - "))
    audit.record(ctx.db, ctx.actor, "export.annotations", detail={"examples": count, "format": "rasa-nlu-yaml"}, ip=ctx.ip)
    return Response(text, media_type="application/x-yaml; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="nlu-annotations-{_stamp()}.yml"'})


def export_conversations(c: Console, ctx: Ctx) -> Response:
    flt, _ = _filter_from_query(c, ctx)
    audit.record(ctx.db, ctx.actor, "export.conversations", detail={"format": "csv", "filter": flt.describe_for_audit()},
                 ip=ctx.ip)
    url = c.database_url

    def body():  # its own transaction: the response streams after the page's transaction commits
        with session_scope(url) as db:
            yield from retention.csv_chunks(retention.export_messages(db, flt))

    return StreamingResponse(body(), media_type="text/csv; charset=utf-8",
                             headers={"content-disposition": f'attachment; filename="conversations-{_stamp()}.csv"'})


# --- admin: users, audit log, retention ----------------------------------------------------------

def user_list(c: Console, ctx: Ctx) -> Response:
    return c.render(ctx, "users.html", users=staff.list_users(ctx.db), roles=staff.ROLES,
                    now=datetime.now(timezone.utc).replace(tzinfo=None))


def user_create(c: Console, ctx: Ctx) -> Response:
    try:
        user = staff.create_user(ctx.db, ctx.field("username"), ctx.field("password"), ctx.field("role", "staff"))
    except staff.StaffError as e:
        return c.redirect("/users", str(e), "error")
    audit.record(ctx.db, ctx.actor, "user.create", target=user.username, detail={"role": user.role}, ip=ctx.ip)
    return c.redirect("/users", f"User {user.username} ({user.role}) created.")


def user_update(c: Console, ctx: Ctx) -> Response:
    user_id = _path_id(ctx, "user_id")
    user = ctx.db.get(StaffUser, user_id) if user_id else None
    if user is None:
        return c.redirect("/users", "No such user.", "error")
    action = ctx.field("action")
    try:
        if action == "password":
            staff.set_password(ctx.db, user, ctx.field("password"))
            audit.record(ctx.db, ctx.actor, "user.password", target=user.username, ip=ctx.ip)
            return c.redirect("/users", f"New password set for {user.username}; their sessions were ended.")
        if action == "role":
            staff.set_role(ctx.db, user, ctx.field("role"))
        elif action in ("activate", "deactivate"):
            staff.set_active(ctx.db, user, action == "activate")
        elif action == "unlock":
            staff.unlock(user)
            c.throttle.clear_name(user.username)
        else:
            return c.redirect("/users", "Unknown action.", "error")
    except staff.StaffError as e:
        return c.redirect("/users", str(e), "error")
    audit.record(ctx.db, ctx.actor, "user.update", target=user.username,
                 detail={"action": action, "role": user.role, "active": user.active}, ip=ctx.ip)
    return c.redirect("/users", f"{user.username}: {action} done.")


def audit_log(c: Console, ctx: Ctx) -> Response:
    action = ctx.param("action")
    action = action if action in audit.ACTIONS else ""
    page_number = _page_number(ctx)
    per_page = 100
    entries = audit.recent(ctx.db, limit=per_page + 1, offset=(page_number - 1) * per_page, action=action or None)
    return c.render(ctx, "audit.html", entries=entries[:per_page], actions=audit.ACTIONS, action=action,
                    page_number=page_number, has_more=len(entries) > per_page,
                    page_url=lambda n: "/audit?" + urlencode({"action": action, "page": n}))


def retention_page(c: Console, ctx: Ctx) -> Response:
    return c.render(ctx, "retention.html", sender_id=ctx.param("sender_id"))


def purge(c: Console, ctx: Ctx) -> Response:
    if ctx.field("confirm").strip() != "PURGE":
        return c.redirect("/retention", "Type PURGE to confirm.", "error")
    try:
        counts = retention.purge_older_than(ctx.db, int(ctx.field("days", "0") or 0), ctx.actor, ctx.ip)
    except (ValueError, retention.RetentionError) as e:
        message = str(e) if isinstance(e, retention.RetentionError) else "Days must be a whole number."
        return c.redirect("/retention", message, "error")
    return c.redirect("/retention", "Purged: " + retention.describe_counts(counts) + ".")


def forget(c: Console, ctx: Ctx) -> Response:
    sender_id = ctx.field("sender_id").strip()
    if not sender_id or ctx.field("confirm").strip() != sender_id:
        return c.redirect("/retention?" + urlencode({"sender_id": sender_id}),
                          "Type the conversation id exactly to confirm.", "error")
    counts = retention.forget_sender(ctx.db, sender_id, ctx.actor, ctx.ip)
    return c.redirect("/retention", f"Forgot {sender_id}: " + retention.describe_counts(counts) + ".")


# --- application ---------------------------------------------------------------------------------

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")


def allowed_hosts(bind_host: str) -> List[str]:
    """Host headers the console answers: on this machine only its loopback names (a web page elsewhere
    cannot reach it by DNS rebinding), else CONSOLE_ALLOWED_HOSTS (comma-separated) or any."""
    import os

    configured = [h.strip() for h in os.environ.get("CONSOLE_ALLOWED_HOSTS", "").split(",") if h.strip()]
    if configured:
        return configured
    return list(LOOPBACK_NAMES) if bind_host in LOOPBACK_NAMES else ["*"]


def create_app(database_url: Optional[str] = None, secret: Optional[str] = None, secure_cookies: bool = False,
               timezone_name: Optional[str] = None, hosts: Sequence[str] = ("*",)) -> Starlette:
    database_url = database_url or default_database_url()
    console = Console(database_url, secret or load_secret(), secure_cookies, timezone_name or _clinic_timezone())
    p = console.page

    async def healthz(_: Request) -> Response:
        def check() -> None:
            with engine_for(database_url).connect() as connection:
                connection.execute(sa.text("SELECT 1"))

        await run_in_threadpool(check)
        return JSONResponse({"status": "ok"})

    routes = [
        Route("/healthz", healthz),
        Route("/login", p(login_form, role=None), methods=["GET"]),
        Route("/login", p(login_submit, role=None), methods=["POST"]),
        Route("/logout", p(logout), methods=["POST"]),
        Route("/", p(home), methods=["GET"]),
        Route("/conversations", p(conversation_list), methods=["GET"]),
        Route("/conversations/{sender_id:path}", p(transcript_page), methods=["GET"]),
        Route("/annotate", p(annotate), methods=["POST"]),
        Route("/red-flags", p(_queue_page("red_flag", "red_flags.html", "red_flags.view")), methods=["GET"]),
        Route("/red-flags/{item_id}/status", p(_status_change("red_flag", "/red-flags")), methods=["POST"]),
        Route("/callbacks", p(_queue_page("callback", "callbacks.html", "callbacks.view")), methods=["GET"]),
        Route("/callbacks/{item_id}/status", p(_status_change("callback", "/callbacks")), methods=["POST"]),
        Route("/annotations", p(annotation_list), methods=["GET"]),
        Route("/export/annotations.yml", p(export_annotations, role="admin"), methods=["GET"]),
        Route("/export/conversations.csv", p(export_conversations, role="admin"), methods=["GET"]),
        Route("/users", p(user_list, role="admin"), methods=["GET"]),
        Route("/users", p(user_create, role="admin"), methods=["POST"]),
        Route("/users/{user_id}", p(user_update, role="admin"), methods=["POST"]),
        Route("/audit", p(audit_log, role="admin"), methods=["GET"]),
        Route("/retention", p(retention_page, role="admin"), methods=["GET"]),
        Route("/retention/purge", p(purge, role="admin"), methods=["POST"]),
        Route("/retention/forget", p(forget, role="admin"), methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]

    async def server_error(request: Request, exc: Exception) -> Response:
        logger.exception("console error on %s", request.url.path, exc_info=exc)
        return HTMLResponse("<!doctype html><title>Error</title><p>Something went wrong. Nothing was changed. "
                            "Please try again; if it keeps happening, tell the administrator.</p>", status_code=500)

    app = Starlette(routes=routes, exception_handlers={500: server_error})
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(hosts))
    return app


def _clinic_timezone() -> str:
    from bot import clinic

    try:
        return clinic.load().timezone
    except clinic.ClinicConfigError as e:
        logger.warning("clinic.yml unreadable (%s); showing times in UTC", e)
        return "UTC"


def main(argv: Optional[List[str]] = None) -> None:
    import os

    import uvicorn

    parser = argparse.ArgumentParser(description="Staff console")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: this machine only)")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--database-url", default=default_database_url())
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    secure = os.environ.get("CONSOLE_SECURE_COOKIES", "").lower() in ("1", "true", "yes")
    if args.host not in ("127.0.0.1", "localhost", "::1") and not secure:
        logger.warning("console listens on %s without CONSOLE_SECURE_COOKIES=1: put it behind HTTPS", args.host)
    conversations.prepare_database(args.database_url)
    app = create_app(args.database_url, secure_cookies=secure, hosts=allowed_hosts(args.host))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", ws="none", proxy_headers=False,
                server_header=False)


if __name__ == "__main__":
    main()
