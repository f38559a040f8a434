"""Smoke: every datastore of the stack answers its own real client with a real write and read."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@pytest.mark.req("REQ-STACK-05")
def test_published_ports_are_default_plus_offset(stack, endpoints):
    status = stack.status()
    offset = stack.config.port_offset
    assert status.get("postgres").ports[5432] == 5432 + offset == endpoints.postgres_port
    assert status.get("clickhouse").ports == {8123: 8123 + offset, 9000: 9000 + offset}
    assert status.get("redis").ports[6379] == 6379 + offset
    assert status.get("qdrant").ports[6333] == 6333 + offset
    assert status.get("aws").ports[4566] == 4566 + offset


def test_postgres_write_read_rolled_back(pg, endpoints):
    table = f"smoke_{uuid.uuid4().hex[:8]}"
    pg.execute(f"CREATE TABLE {table} (id int primary key, name text)")
    pg.execute(f"INSERT INTO {table} VALUES (1, 'spot'), (2, 'on-demand')")
    rows = pg.execute(f"SELECT name FROM {table} ORDER BY id").fetchall()
    assert rows == [("spot",), ("on-demand",)]
    assert pg.execute("SHOW server_version").fetchone()[0].startswith("15.")
    # The fixture's transaction is not visible to another connection (it will be rolled back).
    from harness.domain import postgres_connect

    with postgres_connect(endpoints) as other:
        seen = other.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0]
    assert seen is None


def test_redis_write_read_under_prefix(redis_client, redis_prefix):
    key = f"{redis_prefix}greeting"
    redis_client.set(key, "hello", ex=60)
    assert redis_client.get(key) == "hello"
    stream = f"{redis_prefix}events"
    redis_client.xadd(stream, {"type": "smoke"})
    assert [fields for _id, fields in redis_client.xrange(stream)] == [{"type": "smoke"}]
    assert redis_client.info("server")["redis_version"].startswith("7.")


def test_clickhouse_mergetree_and_quantiles(clickhouse):
    table = f"smoke_{uuid.uuid4().hex[:8]}"
    clickhouse.execute(
        f"CREATE TABLE {table} (d Date, pool String, latency_ms Float64) "
        "ENGINE = MergeTree() PARTITION BY toYYYYMM(d) ORDER BY (pool, d)")
    try:
        clickhouse.execute(f"INSERT INTO {table} (d, pool, latency_ms) VALUES",
                           [(date(2026, 1, 1), "gpu", float(v)) for v in range(1, 101)])
        count, p95 = clickhouse.execute(
            f"SELECT count(), quantile(0.95)(latency_ms) FROM {table} WHERE pool = 'gpu'")[0]
        assert count == 100
        assert 94 <= p95 <= 96
    finally:
        clickhouse.execute(f"DROP TABLE IF EXISTS {table}")


def test_qdrant_collection_points_filter(qdrant):
    from qdrant_client import models

    name = f"smoke_{uuid.uuid4().hex[:8]}"
    qdrant.create_collection(name, vectors_config=models.VectorParams(
        size=4, distance=models.Distance.COSINE))
    try:
        assert qdrant.collection_exists(name)
        qdrant.upsert(name, points=[
            models.PointStruct(id=1, vector=[1, 0, 0, 0], payload={"outcome": "success"}),
            models.PointStruct(id=2, vector=[0, 1, 0, 0], payload={"outcome": "rolled_back"}),
        ], wait=True)
        hits = qdrant.query_points(name, query=[1, 0.1, 0, 0], limit=5, query_filter=models.Filter(
            must=[models.FieldCondition(key="outcome", match=models.MatchValue(value="success"))]))
        assert [p.id for p in hits.points] == [1]
        assert qdrant.count(name, exact=True).count == 2
    finally:
        qdrant.delete_collection(name)
    assert not qdrant.collection_exists(name)


@pytest.mark.requires_aws
def test_aws_simulator_ec2_cloudwatch_cost_explorer(ec2, aws):
    tag = f"smoke-{uuid.uuid4().hex[:8]}"
    image_id = "ami-12c6146b"  # in moto's default AMI set
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["ImageId"] == image_id
    run = ec2.run_instances(ImageId=image_id, InstanceType="m5.large", MinCount=2, MaxCount=2,
                            TagSpecifications=[{"ResourceType": "instance",
                                                "Tags": [{"Key": "smoke", "Value": tag}]}])
    ids = sorted(i["InstanceId"] for i in run["Instances"])
    try:
        found = ec2.describe_instances(Filters=[{"Name": "tag:smoke", "Values": [tag]}])
        seen = sorted(i["InstanceId"] for r in found["Reservations"] for i in r["Instances"])
        assert seen == ids
    finally:
        ec2.terminate_instances(InstanceIds=ids)

    cw = aws("cloudwatch")
    cw.put_metric_data(Namespace=f"Smoke/{tag}", MetricData=[
        {"MetricName": "latency", "Value": 12.5, "Unit": "Milliseconds"}])
    metrics = cw.list_metrics(Namespace=f"Smoke/{tag}")["Metrics"]
    assert [m["MetricName"] for m in metrics] == ["latency"]

    ce = aws("ce")
    cost = ce.get_cost_and_usage(TimePeriod={"Start": "2026-01-01", "End": "2026-02-01"},
                                 Granularity="MONTHLY", Metrics=["UnblendedCost"])
    assert "ResultsByTime" in cost
