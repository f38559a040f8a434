"""Host-port conflicts are found before compose starts, with who holds each port."""

from __future__ import annotations

import os
import socket

import pytest

from harness.core import (
    PortClaim,
    PortConflictError,
    check_ports,
    describe_port_holder,
    find_conflicts,
    port_is_free,
)


def test_held_port_is_reported_with_this_process_as_holder(held_port):
    conflicts = find_conflicts([(held_port, "web")])
    assert len(conflicts) == 1
    claim = conflicts[0]
    assert (claim.port, claim.service) == (held_port, "web")
    assert claim.holder.startswith(f"process {os.getpid()} ("), claim.holder


def test_describe_port_holder_names_this_process_and_its_command(held_port):
    holder = describe_port_holder(held_port)
    assert holder.startswith(f"process {os.getpid()} (")
    with open(f"/proc/{os.getpid()}/cmdline", "rb") as f:
        argv0 = f.read().split(b"\0")[0].decode()
    assert argv0 in holder


def test_free_port_is_not_reported(held_port, free_port):
    assert port_is_free(free_port)
    assert not port_is_free(held_port)
    conflicts = find_conflicts([(free_port, "db"), (held_port, "web")])
    assert [c.service for c in conflicts] == ["web"]


def test_nobody_listening_is_an_unknown_holder(free_port):
    assert describe_port_holder(free_port).startswith("unknown process")


def test_find_conflicts_uses_the_injected_checks_in_order():
    taken = {5433: "process 42 (postgres)", 6380: "container 'redis-1'"}
    conflicts = find_conflicts(
        [(5433, "postgres"), (8124, "clickhouse"), (6380, "redis")],
        is_free=lambda port: port not in taken, describe_holder=taken.__getitem__)
    assert conflicts == [PortClaim(5433, "postgres", "process 42 (postgres)"),
                         PortClaim(6380, "redis", "container 'redis-1'")]


def test_check_ports_raises_with_every_conflict(held_port, free_port):
    with pytest.raises(PortConflictError) as err:
        check_ports([(held_port, "web"), (free_port, "db")])
    assert [c.port for c in err.value.conflicts] == [held_port]
    assert f"process {os.getpid()}" in str(err.value)


def test_check_ports_passes_when_all_are_free(free_port):
    assert check_ports([(free_port, "db")]) is None


def test_port_conflict_message_names_port_service_holder_and_the_offset_hint():
    error = PortConflictError([PortClaim(5433, "postgres", "process 42 (postgres -D /data)"),
                               PortClaim(6380, "redis")])
    message = str(error)
    assert ("127.0.0.1:5433 (wanted by service 'postgres') is held by "
            "process 42 (postgres -D /data)") in message
    assert "127.0.0.1:6380 (wanted by service 'redis') is held by unknown process" in message
    assert "E2E_PORT_OFFSET=<n>" in message


def test_port_with_only_time_wait_connections_counts_as_free():
    """A stack just removed leaves TIME_WAIT sockets on its ports; they must not block `up`."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as docker-proxy's does
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()  # the side that closes first keeps the TIME_WAIT, on `port`
    listener.close()
    client.close()
    assert port_is_free(port)
