"""Shared fixtures: a trained model, a real running stack (Rasa + action server + web), an in-process NLU.

Every server is real and listens on free ports on 127.0.0.1; each test session has its own
SQLite database file unless TEST_DATABASE_URL points elsewhere.

Tiers (markers, assigned at collection below; `pytest -m unit` is `make test-fast`):
- stack: needs a trained model or a running server (a fixture below, a module's own servers or `bot serve`);
- prod: needs the local PostgreSQL or Redis server;
- browser: drives Chromium through Playwright;
- unit: none of these. A test can be in several of stack, prod and browser; unit is in none of them.
A module whose tests start servers without these fixtures says so with `pytestmark = pytest.mark.stack`.
"""
from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Dict, List

import pytest
import requests

from bot.paths import ROOT
from bot.stack import Stack, StackConfig, free_port

ARTIFACTS = ROOT / "tests" / "artifacts"
OFFICE_OPEN = "2024-06-10T10:00:00-04:00"  # a Monday morning at the clinic (clinic.yml: Mon-Fri 8 am - 4:30 pm ET)


@pytest.fixture(scope="session")
def model_path() -> Path:
    from bot.training import ensure_trained

    return ensure_trained()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'rasa.db'}"


@pytest.fixture(scope="session")
def stack(model_path, database_url, tmp_path_factory):
    """The whole product running as in `make run`, on free ports."""
    cfg = StackConfig(
        model=model_path,
        database_url=database_url,
        rasa_port=free_port(),
        action_port=free_port(),
        web_port=free_port(),
        console_port=free_port(),
        log_dir=tmp_path_factory.mktemp("logs"),
        extra_env={"CLINIC_CLOCK": OFFICE_OPEN},  # replies that say whether the office is open now
    )
    with Stack(cfg) as running:
        yield running


class Chat:
    """Talks to the running Rasa server over REST, like the widget does."""

    def __init__(self, rasa_url: str) -> None:
        self.url = f"{rasa_url}/webhooks/rest/webhook"

    def new_sender(self, prefix: str = "test") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    def send(self, sender: str, text: str, **extra) -> List[Dict]:
        r = requests.post(self.url, json={"sender": sender, "message": text, **extra}, timeout=60)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    def texts(self, sender: str, text: str) -> List[str]:
        return [m.get("text", "") for m in self.send(sender, text)]

    def joined(self, sender: str, text: str) -> str:
        return "\n".join(self.texts(sender, text))

    def responses(self, sender: str, text: str) -> List[str]:
        """The names of the responses of one turn, in order (metadata.response), so a test compares the
        whole sequence a person reads: one extra or missing message fails it."""
        replies = self.send(sender, text)
        return [(m.get("metadata") or {}).get("response") or f"<text: {m.get('text', '')[:60]}>" for m in replies]

    def conversation(self, sender: str, turns: List[str]) -> List[List[str]]:
        return [self.responses(sender, text) for text in turns]


@pytest.fixture(scope="session")
def chat(stack) -> Chat:
    return Chat(stack.cfg.rasa_url)


@pytest.fixture(scope="session")
def agent(model_path):
    """The trained model loaded in-process (in-memory tracker store, no action server)."""
    from rasa.core.agent import Agent

    return Agent.load(str(model_path))


def graph_component(agent, class_name: str):
    """The instance of one component of the loaded model's prediction graph, by class name."""
    nodes = agent.processor.graph_runner._instantiated_nodes
    return next(node._component for node in nodes.values() if type(node._component).__name__ == class_name)


@pytest.fixture(scope="session")
def nlu(agent):
    """Parse text with the trained model in-process (fast; for recall/accuracy sweeps)."""
    loop = asyncio.new_event_loop()

    def parse(text: str) -> Dict:
        return loop.run_until_complete(agent.parse_message(text))

    yield parse
    loop.close()


@pytest.fixture(scope="session")
def clinic_values() -> Dict[str, str]:
    from bot import clinic

    return clinic.load().template_values()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# --- tiers ---------------------------------------------------------------------------------------

TIERS = ("unit", "stack", "prod", "browser")
# Fixtures that train (or load) the model or start the servers. item.fixturenames holds every fixture a
# test uses, directly or through other fixtures, so a module's fixture built on one of these counts too.
STACK_FIXTURES = frozenset({"model_path", "stack", "chat", "agent", "nlu", "console_url"})
BROWSER_FIXTURES = frozenset({"browser"})  # Playwright's Chromium (test_widget_browser, test_console_browser)
PROD_PARAM = "postgresql"  # the PostgreSQL case of a database fixture parametrized over sqlite/postgresql


def tiers_of(item: pytest.Item) -> set:
    tiers = {mark.name for mark in item.iter_markers() if mark.name in TIERS}
    names = set(getattr(item, "fixturenames", ()))
    if names & STACK_FIXTURES:
        tiers.add("stack")
    if names & BROWSER_FIXTURES:
        tiers.add("browser")
    callspec = getattr(item, "callspec", None)
    if callspec is not None and any(value == PROD_PARAM for value in callspec.params.values()
                                    if isinstance(value, str)):
        tiers.add("prod")
    if "unit" in tiers and len(tiers) > 1:
        raise pytest.UsageError(f"{item.nodeid} is marked unit but needs {sorted(tiers - {'unit'})}")
    return tiers or {"unit"}


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by these markers
def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        present = {mark.name for mark in item.iter_markers()}
        for tier in sorted(tiers_of(item) - present):
            item.add_marker(tier)


@pytest.fixture(autouse=True)
def _unit_tests_start_nothing(request, monkeypatch):
    """A unit test that trains or starts the stack fails at once, saying which tier it belongs to."""
    if request.node.get_closest_marker("unit") is None:
        return

    def refuse(*args, **kwargs):
        raise AssertionError(f"{request.node.nodeid} trains or starts servers: mark it stack (tests/conftest.py)")

    monkeypatch.setattr(Stack, "start", refuse)
    monkeypatch.setattr("bot.training.ensure_trained", refuse)
