"""Typed views of a running stack: one ServiceStatus per service, a StackStatus table."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ServiceStatus(BaseModel):
    name: str
    container: str | None = None
    state: str = "missing"  # created | running | restarting | exited | dead | missing
    health: str | None = None  # starting | healthy | unhealthy | None (no healthcheck)
    exit_code: int | None = None
    ports: dict[int, int] = Field(default_factory=dict)  # container port -> host port
    last_health_output: str = ""
    depends_on: list[str] = Field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.state == "running" and self.health in (None, "healthy")

    @property
    def failed(self) -> bool:
        """Will not become healthy without intervention."""
        return self.health == "unhealthy" or self.state in ("exited", "dead")

    @property
    def summary(self) -> str:
        if self.state != "running":
            code = f" ({self.exit_code})" if self.exit_code not in (None, 0) else ""
            return f"{self.state}{code}"
        return self.health or "running"

    @classmethod
    def from_container(cls, name: str, container: Any, depends_on: list[str]) -> ServiceStatus:
        state = container.state
        health = state.health
        last_output = ""
        if health is not None and health.log:
            last_output = (health.log[-1].output or "").strip()
        ports: dict[int, int] = {}
        for key, bindings in (container.network_settings.ports or {}).items():
            for binding in bindings or []:
                if binding.get("HostPort"):
                    ports[int(key.split("/")[0])] = int(binding["HostPort"])
        return cls(
            name=name,
            container=container.name,
            state=state.status or "unknown",
            health=health.status if health is not None else None,
            exit_code=state.exit_code,
            ports=ports,
            last_health_output=last_output,
            depends_on=depends_on,
        )


class StackStatus(BaseModel):
    project: str
    services: list[ServiceStatus]
    host: str = "127.0.0.1"  # where the published ports answer (a remote engine's host)

    @property
    def all_ready(self) -> bool:
        return bool(self.services) and all(s.ready for s in self.services)

    @property
    def any_created(self) -> bool:
        return any(s.state != "missing" for s in self.services)

    def get(self, name: str) -> ServiceStatus:
        for s in self.services:
            if s.name == name:
                return s
        raise KeyError(f"no service '{name}' in stack '{self.project}'; "
                       f"services: {[s.name for s in self.services]}")

    def brief(self) -> str:
        return ", ".join(f"{s.name}={s.summary}" for s in self.services)

    def table(self) -> str:
        rows = [("SERVICE", "STATE", "HEALTH", "PORTS (host->container)")]
        for s in self.services:
            ports = " ".join(f"{self.host}:{h}->{c}" for c, h in sorted(s.ports.items())) or "-"
            rows.append((s.name, s.state, s.health or "-", ports))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                         for r in rows)
