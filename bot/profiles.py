"""Run profiles for `bot serve`: dev (one Rasa server, SQLite) and prod (several Rasa servers).

In the prod profile every Rasa server is stateless: conversations and the product's tables live in
PostgreSQL (DATABASE_URL) and the per-conversation lock lives in Redis, so a load balancer can send
any turn to any server. endpoints.prod.yml reads the values below from the environment; this module
is the one place that gives them defaults, for `bot serve --profile prod` and the tests alike.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Dict, Mapping, Optional, Sequence

from bot.paths import ROOT
from bot.stack import StackConfig

PROD_ENDPOINTS = ROOT / "endpoints.prod.yml"
DEFAULT_PROD_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_SECOND_RASA_PORT = 5006


@dataclass(frozen=True)
class RedisSettings:
    """Where the Redis lock store is (REDIS_HOST, REDIS_PORT, REDIS_DB, REDIS_KEY_PREFIX, REDIS_PASSWORD)."""

    host: str = "127.0.0.1"
    port: int = 6379
    db: int = 1
    key_prefix: str = "clinic"  # Rasa accepts letters and digits only
    password: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "RedisSettings":
        default = cls()
        return cls(
            host=environ.get("REDIS_HOST") or default.host,
            port=int(environ.get("REDIS_PORT") or default.port),
            db=int(environ.get("REDIS_DB") or default.db),
            key_prefix=environ.get("REDIS_KEY_PREFIX") or default.key_prefix,
            password=environ.get("REDIS_PASSWORD", default.password),
        )

    def env(self) -> Dict[str, str]:
        if not self.key_prefix.isalnum():
            raise ValueError(f"REDIS_KEY_PREFIX must be letters and digits only, not {self.key_prefix!r}")
        return {
            "REDIS_HOST": self.host,
            "REDIS_PORT": str(self.port),
            "REDIS_DB": str(self.db),
            "REDIS_KEY_PREFIX": self.key_prefix,
            "REDIS_PASSWORD": self.password,
        }

    @property
    def lock_key_prefix(self) -> str:
        """The prefix Rasa's RedisLockStore puts before each conversation id."""
        return f"{self.key_prefix}:lock:"

    def describe(self) -> str:
        return f"redis://{self.host}:{self.port}/{self.db} (keys {self.lock_key_prefix}*)"

    def check(self, timeout: float = 3.0) -> None:
        """Fail fast with a clear message when Redis is not reachable (instead of on the first message)."""
        import redis

        client = redis.Redis(host=self.host, port=self.port, db=self.db, password=self.password or None,
                             socket_timeout=timeout, socket_connect_timeout=timeout)
        try:
            client.ping()
        except redis.RedisError as e:
            raise SystemExit(f"[serve] cannot reach the Redis lock store at {self.describe()}: {e}") from None
        finally:
            client.close()


def prod_database_url(environ: Mapping[str, str] = os.environ) -> str:
    return environ.get("DATABASE_URL") or DEFAULT_PROD_DATABASE_URL


def prod_stack_config(base: StackConfig, extra_rasa_ports: Sequence[int],
                      redis: Optional[RedisSettings] = None) -> StackConfig:
    """`base` turned into the production profile: more Rasa servers, prod endpoints, Redis settings."""
    redis = redis or RedisSettings.from_env()
    return replace(
        base,
        extra_rasa_ports=list(extra_rasa_ports),
        endpoints=PROD_ENDPOINTS,
        extra_env={**base.extra_env, **redis.env()},
    )
