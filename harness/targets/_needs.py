"""What a test needs from the target, as markers; set from its fixtures at collection time
(explicit markers add to them), and a skip with the reason where the target lacks it."""

from __future__ import annotations

import inspect

import pytest

NEEDS = {  # in the order a skip reason lists them
    "destructive": "restarts or kills services; never on the url target",
    "requires_docker": "inspects or drives the Docker stack itself (status, logs, stats, its "
                       "own stacks); never on the url target",
    "requires_admin": "calls the portal's admin API (customers, faults); the url target needs "
                      "admin_token_env naming a variable that is set",
    "requires_aws_simulator": "sets up or inspects EC2 in the AWS simulator; the url target "
                              "needs [simulator] aws_url",
    "requires_orchestrator": "calls the orchestrator's port; the url target needs "
                             "orchestrator_url",
    "requires_datastores": "reads the datastores directly (args: which; none = all four); "
                           "the url target needs them in [datastores]",
}
# Fixture -> (marker, args). The closure counts: test_customer brings api_client (admin) and
# ec2 (its instances are terminated after the test), so a journey needs both.
FIXTURE_NEEDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pg": ("requires_datastores", ("postgres",)),
    "redis_client": ("requires_datastores", ("redis",)),
    "clickhouse": ("requires_datastores", ("clickhouse",)),
    "qdrant": ("requires_datastores", ("qdrant",)),
    "ec2": ("requires_aws_simulator", ()),
    "aws": ("requires_aws_simulator", ()),
    "api_client": ("requires_admin", ()),
    "faults": ("requires_admin", ()),
    # scenarios/platform's plain-HTTP customers: created with the admin token, fleets in EC2
    "new_platform_customer": ("requires_admin", ()),
    "pair": ("requires_admin", ()),
    "tenants": ("requires_admin", ()),
    "orchestrator_spec": ("requires_orchestrator", ()),
}
PLATFORM_SIM = ("new_platform_customer", "pair", "tenants")
# Markers that already say the same thing.
ALIASES = {"requires_aws": "requires_aws_simulator", "serial": "destructive"}


def own_arguments(item: pytest.Item) -> set[str]:
    """The arguments of the test function itself (not the fixtures it pulls in)."""
    func = getattr(item, "obj", None)
    try:
        return set(inspect.signature(func).parameters) if callable(func) else set()
    except (TypeError, ValueError):
        return set()


def add_needs(item: pytest.Item) -> None:
    """Markers for what the item's fixtures need (no duplicates of explicit ones)."""
    names = set(getattr(item, "fixturenames", ()))
    wanted: dict[str, set[str]] = {}
    for fixture in names:
        if fixture in FIXTURE_NEEDS:
            marker, args = FIXTURE_NEEDS[fixture]
            wanted.setdefault(marker, set()).update(args)
        if fixture in PLATFORM_SIM:
            wanted.setdefault("requires_aws_simulator", set())
    # A test that names `stack` itself uses the Docker stack (a conftest's autouse does not).
    if "stack" in own_arguments(item):
        wanted.setdefault("requires_docker", set())
    for alias, marker in ALIASES.items():
        if item.get_closest_marker(alias) is not None:
            wanted.setdefault(marker, set())
    for marker, need in sorted(wanted.items()):
        explicit = item.get_closest_marker(marker)
        if explicit is not None and (not explicit.args or set(explicit.args) >= need):
            continue
        item.add_marker(getattr(pytest.mark, marker)(*sorted(need)))


def needs_of(item: pytest.Item) -> list[tuple[str, tuple[str, ...]]]:
    """(marker, args) for every need marker on the item; datastore args merged."""
    out: dict[str, set[str]] = {}
    for marker in NEEDS:
        for m in item.iter_markers(marker):
            out.setdefault(marker, set()).update(str(a) for a in m.args)
    # a bare requires_datastores means all of them
    if "requires_datastores" in out and any(
            not m.args for m in item.iter_markers("requires_datastores")):
        out["requires_datastores"] = set()
    return [(k, tuple(sorted(v))) for k, v in out.items()]
