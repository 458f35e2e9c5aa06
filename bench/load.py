"""Simulated people chatting with a running Rasa server over REST (bounded loops, loopback only).

Each simulated person sends a turn, waits for the whole reply, optionally pauses ("think time"),
and sends the next; every few turns they start a new conversation. One asyncio loop drives all
of them, so the load generator itself costs little CPU next to the server it measures.
"""
from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Sequence

import aiohttp
import yaml

MESSAGES_FILE = Path(__file__).with_name("load_messages.yml")
TURNS_PER_CONVERSATION = 6


@dataclass
class LoadResult:
    users: int
    think_s: float
    latencies_ms: List[float] = field(default_factory=list)
    errors: int = 0
    wall_s: float = 0.0

    @property
    def turns(self) -> int:
        return len(self.latencies_ms)

    @property
    def rps(self) -> float:
        return self.turns / self.wall_s if self.wall_s else 0.0

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (no interpolation: a reported p99 is a latency someone really had)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


def conversation_script(person: int, length: int) -> List[str]:
    data = yaml.safe_load(MESSAGES_FILE.read_text())
    openers, messages = data["openers"], data["messages"]
    rng = random.Random(person)
    script = []
    for turn in range(length):
        if turn % TURNS_PER_CONVERSATION == 0:
            script.append(rng.choice(openers))
        else:
            script.append(messages[(person * 7 + turn) % len(messages)])
    return script


async def _person(session: aiohttp.ClientSession, url: str, tag: str, person: int, turns: int, think_s: float,
                  result: LoadResult, failure_text: str) -> None:
    rng = random.Random(1000 + person)
    if think_s:  # people arrive independently, not all in the same millisecond
        await asyncio.sleep(rng.uniform(0, 2 * think_s))
    for turn, text in enumerate(conversation_script(person, turns)):
        sender = f"bench-{tag}-{person}-{turn // TURNS_PER_CONVERSATION}"
        started = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": text}) as response:
                body = await response.json(content_type=None)
                ok = response.status == 200 and body and [m.get("text") for m in body] != [failure_text]
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            ok = False
        elapsed_ms = (time.perf_counter() - started) * 1000
        if ok:
            result.latencies_ms.append(elapsed_ms)
        else:
            result.errors += 1
        if think_s:
            await asyncio.sleep(think_s * rng.uniform(0.5, 1.5))


async def _run(rasa_url: str, users: int, turns_per_user: int, think_s: float, tag: str, failure_text: str) -> LoadResult:
    url = f"{rasa_url}/webhooks/rest/webhook"
    result = LoadResult(users=users, think_s=think_s)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=users), timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(_person(session, url, tag, p, turns_per_user, think_s, result, failure_text)
                               for p in range(users)))
        result.wall_s = time.perf_counter() - started
    return result


def run_load(rasa_url: str, users: int, turns_per_user: int, think_s: float = 0.0, tag: str = "load") -> LoadResult:
    from bot.channels.safety import failure_text

    return asyncio.run(_run(rasa_url, users, turns_per_user, think_s, tag, failure_text()))
