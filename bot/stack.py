"""Starts and stops the product's processes: action server, Rasa server, chat page, console.

One piece of code for `make run` (bot serve) and the test fixtures, so tests exercise exactly
what people run.
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

from bot.paths import ROOT, VAR
from bot.rasa_launcher import rasa_command_prefix


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class Service:
    name: str
    cmd: List[str]
    ready_url: str
    public_url: str
    process: Optional[subprocess.Popen] = None
    log_path: Optional[Path] = None

    def exit_code(self) -> Optional[int]:
        """The process's exit code once it has ended; None while it runs or before it is started."""
        return self.process.poll() if self.process is not None else None


@dataclass
class StackConfig:
    model: Path
    database_url: str
    host: str = "127.0.0.1"
    rasa_port: int = 5005
    extra_rasa_ports: List[int] = field(default_factory=list)  # more Rasa servers (production profile)
    action_port: int = 5055
    web_port: int = 8080
    console_port: int = 8081
    log_dir: Path = VAR / "logs"
    clinic_file: Optional[Path] = None
    endpoints: Path = ROOT / "endpoints.yml"
    credentials: Path = ROOT / "credentials.yml"
    api_token: Optional[str] = None
    with_web: bool = True
    with_console: bool = True
    lean_rasa: bool = True  # start Rasa via bot.rasa_launcher: no TensorFlow when the model needs none
    extra_env: Dict[str, str] = field(default_factory=dict)
    # what the Rasa servers show the action server (bot/action_server.py); random per start unless set
    action_secret: str = field(default_factory=lambda: os.environ.get("ACTION_SERVER_SECRET") or secrets.token_urlsafe(32))

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def rasa_urls(self) -> List[str]:
        """Every Rasa server; they share the tracker and lock stores, so any can serve any turn."""
        return [f"http://{self.host}:{port}" for port in [self.rasa_port, *self.extra_rasa_ports]]

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}"

    @property
    def action_headers(self) -> Dict[str, str]:
        """What a caller of the action server must send (endpoints*.yml send it for Rasa)."""
        return {"X-Action-Secret": self.action_secret}

    @property
    def web_url(self) -> str:
        return f"http://{self.host}:{self.web_port}"

    @property
    def console_url(self) -> str:
        return f"http://{self.host}:{self.console_port}"

    def env(self) -> Dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
                "ACTION_ENDPOINT_URL": f"{self.action_url}/webhook",
                "ACTION_SERVER_SECRET": self.action_secret,
                "DATABASE_URL": self.database_url,
                "RASA_URL": self.rasa_url,
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "RASA_TELEMETRY_ENABLED": "false",
                "PYTHONUNBUFFERED": "1",
            }
        )
        # One math thread per process: a turn's matrix work is tiny, and idle BLAS/OpenMP worker threads
        # only compete with the other servers for this machine's cores (an operator's setting wins).
        for threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(threads, "1")
        if self.clinic_file:
            env["CLINIC_FILE"] = str(self.clinic_file)
        # rasa_sdk listens on 0.0.0.0 unless SANIC_HOST says otherwise: the action server is for the
        # Rasa servers only, so it listens where they run (an operator may set SANIC_HOST for another host)
        env.setdefault("SANIC_HOST", self.host)
        # Sanic reads any body up to 100 MB before a channel can refuse it (six 95 MB posts took a Rasa
        # server from 544 to 1,098 MB): 1 MB holds the longest message REST accepts and a socket.io frame
        env.setdefault("SANIC_REQUEST_MAX_SIZE", str(MAX_REQUEST_BYTES))
        env.update(self.extra_env)
        return env


MAX_REQUEST_BYTES = 1_000_000


def services(cfg: StackConfig) -> List[Service]:
    result = [
        Service(
            "action server",
            [sys.executable, "-m", "bot.action_server", "--actions", "actions", "--port", str(cfg.action_port)],
            f"{cfg.action_url}/health",
            f"{cfg.action_url}/webhook",
        ),
    ]
    for index, (port, url) in enumerate(zip([cfg.rasa_port, *cfg.extra_rasa_ports], cfg.rasa_urls)):
        name = "rasa server" if index == 0 else f"rasa server {index + 1}"
        result.append(Service(name, rasa_command(cfg, port), f"{url}/webhooks/rest/", f"{url}/webhooks/rest/webhook"))
    if cfg.with_web:
        result.append(
            Service(
                "chat page",
                [sys.executable, "-m", "bot.web.chat_server", "--host", cfg.host, "--port", str(cfg.web_port)],
                f"{cfg.web_url}/healthz",
                f"{cfg.web_url}/",
            )
        )
    if cfg.with_console and (ROOT / "bot" / "web" / "console.py").exists():
        result.append(
            Service(
                "staff console",
                [sys.executable, "-m", "bot.web.console", "--host", cfg.host, "--port", str(cfg.console_port)],
                f"{cfg.console_url}/healthz",
                f"{cfg.console_url}/",
            )
        )
    return result


def rasa_command(cfg: StackConfig, port: int) -> List[str]:
    cmd = [
        *rasa_command_prefix(cfg.lean_rasa), "run",
        "--model", str(cfg.model),
        "--endpoints", str(cfg.endpoints),
        "--credentials", str(cfg.credentials),
        "--interface", cfg.host, "--port", str(port),
        "--cors", "*",
    ]
    if cfg.api_token:  # the HTTP API is off unless a token protects it
        cmd += ["--enable-api", "--auth-token", cfg.api_token]
    return cmd


class StartCancelled(Exception):
    """Start-up was asked to stop (Ctrl-C / SIGTERM) before every service was ready."""


def _never() -> bool:
    return False


PRIVATE_UMASK = 0o077
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_files(cfg: "StackConfig") -> None:
    """Conversations are health information: the var/ tree (SQLite database and its -wal/-shm, logs,
    exports) is readable by its owner only, also when it was created before (issue #14, item 6)."""
    cfg.log_dir.mkdir(parents=True, exist_ok=True)
    for folder in {cfg.log_dir, *sqlite_dirs(cfg.database_url)}:
        if folder.exists():
            folder.chmod(PRIVATE_DIR)
            for path in folder.iterdir():
                if path.is_file():
                    path.chmod(PRIVATE_FILE)


def sqlite_dirs(database_url: str) -> List[Path]:
    prefix = "sqlite:///"
    return [Path(database_url[len(prefix):]).parent] if database_url.startswith(prefix) else []


class Stack:
    def __init__(self, cfg: StackConfig) -> None:
        self.cfg = cfg
        self.services = services(cfg)

    def start(self, timeout: float = 240.0, cancelled: Callable[[], bool] = _never) -> "Stack":
        """Start every service and wait until each answers.

        `cancelled` is polled between steps: a caller whose signal handler only sets a flag (bot serve)
        never has an exception land inside Popen, where a child could be started but not recorded.
        """
        private_files(self.cfg)
        env = self.cfg.env()
        try:
            for svc in self.services:
                if cancelled():
                    raise StartCancelled()
                svc.log_path = self.cfg.log_dir / (svc.name.replace(" ", "_") + ".log")
                log_fd = os.open(svc.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
                with os.fdopen(log_fd, "ab") as log:  # the child keeps its own copy of the descriptor
                    svc.process = subprocess.Popen(
                        svc.cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                        umask=PRIVATE_UMASK,  # the database, its -wal/-shm, logs and exports: the owner's only
                    )
            deadline = time.monotonic() + timeout
            for svc in self.services:
                self._wait_ready(svc, deadline, cancelled)
        except BaseException:  # Ctrl-C or a failure while starting: nothing may be left running
            self.stop()
            raise
        return self

    def _wait_ready(self, svc: Service, deadline: float, cancelled: Callable[[], bool] = _never) -> None:
        while time.monotonic() < deadline:
            if cancelled():
                raise StartCancelled()
            code = svc.exit_code()
            if code is not None:
                raise RuntimeError(f"{svc.name} exited with {code}:\n{tail(svc.log_path)}")
            try:
                with urllib.request.urlopen(svc.ready_url, timeout=2) as r:
                    if r.status < 500:
                        return
            except Exception:
                time.sleep(0.3)
        raise RuntimeError(f"{svc.name} not ready at {svc.ready_url}:\n{tail(svc.log_path)}")

    def stop(self, grace: float = 10.0) -> None:
        for svc in reversed(self.services):
            if svc.process and svc.process.poll() is None:
                try:
                    os.killpg(svc.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for svc in self.services:
            if not svc.process:
                continue
            try:
                svc.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(svc.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                svc.process.wait()

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def tail(path: Optional[Path], lines: int = 40) -> str:
    if not path or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
