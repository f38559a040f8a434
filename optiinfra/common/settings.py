"""Service settings from the environment, validated once at start-up."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every service reads the same settings; each uses the part it needs."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    postgres_dsn: str = "postgresql://optiinfra:optiinfra@127.0.0.1:5432/optiinfra"
    redis_url: str = "redis://127.0.0.1:6379/0"
    clickhouse_host: str = "127.0.0.1"
    clickhouse_port: int = Field(9000, ge=1, le=65535)
    qdrant_url: str = "http://127.0.0.1:6333"
    aws_endpoint_url: str | None = None
    aws_default_region: str = "us-east-1"
    aws_access_key_id: str = "test"
    aws_secret_access_key: str = "test"
    admin_token: str = Field(..., min_length=8)
    orchestrator_url: str = "http://127.0.0.1:8000"
    workload_url: str = "http://127.0.0.1:8080"

    # Workflow timing: short in the e2e stack so a journey takes seconds.
    rollout_step_hold_s: float = Field(5.0, ge=0, le=3600)
    validation_timeout_s: float = Field(30.0, gt=0, le=3600)
    rpc_timeout_s: float = Field(30.0, gt=0, le=600)
    quality_threshold: float = Field(0.90, ge=0, le=1)
    metrics_wait_s: float = Field(20.0, ge=0, le=600)

    # Bus: a task idle this long in a dead consumer's pending list is claimed by another.
    task_claim_idle_ms: int = Field(15000, ge=100)
    agent_concurrency: int = Field(8, ge=1, le=64)

    workload_tick_s: float = Field(1.0, gt=0, le=60)
    workload_inventory_s: float = Field(2.0, ge=0, le=600)
    workload_regions: str = "us-east-1,us-west-2"
    heartbeat_path: str = "/tmp/optiinfra-heartbeat"
    patterns_collection: str = "optimization_patterns"
    log_level: str = "INFO"
    # The edge (common/edge.py): a larger request body is a 413; a connection that has not
    # sent a complete request head (or WebSocket handshake) by then gets a 408 and is closed
    # (0.8 s: docs/api.md promises a stalled handshake is refused within a second; 0.5 s cut
    # honest clients on a loaded 2-core machine between connect and their first bytes).
    max_body_bytes: int = Field(64 * 1024, ge=1024, le=64 * 1024 * 1024)
    header_timeout_s: float = Field(0.8, gt=0, le=60)
    port: int = Field(8000, ge=1, le=65535)

    @field_validator("rollout_step_hold_s", "validation_timeout_s")
    @classmethod
    def _finite(cls, v: float) -> float:
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError("must be finite")
        return v

    @property
    def regions(self) -> list[str]:
        return [r.strip() for r in self.workload_regions.split(",") if r.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]  # admin_token comes from the environment
