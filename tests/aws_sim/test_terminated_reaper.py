"""Terminated instances leave DescribeInstances after the retention time, as on real EC2."""

from __future__ import annotations

import boto3
import pytest
from aws_sim import TerminatedReaper
from moto import mock_aws

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ec2():
    with mock_aws():
        yield boto3.client("ec2", region_name="us-east-1", aws_access_key_id="t",
                           aws_secret_access_key="t")


def launch(ec2, count: int, customer: str) -> list[str]:
    run = ec2.run_instances(ImageId="ami-12c6146b", MinCount=count, MaxCount=count,
                            InstanceType="m5.xlarge", TagSpecifications=[{
                                "ResourceType": "instance",
                                "Tags": [{"Key": "optiinfra:customer", "Value": customer}]}])
    return [i["InstanceId"] for i in run["Instances"]]


def listed(ec2) -> dict[str, str]:
    pages = ec2.get_paginator("describe_instances").paginate()
    return {i["InstanceId"]: i["State"]["Name"]
            for page in pages for r in page["Reservations"] for i in r["Instances"]}


def test_terminated_reservations_go_only_after_the_retention_time(ec2):
    clock = Clock()
    reaper = TerminatedReaper(300, clock=clock)
    gone, kept, half = launch(ec2, 3, "gone"), launch(ec2, 2, "kept"), launch(ec2, 2, "half")
    ec2.terminate_instances(InstanceIds=gone + half[:1])

    assert reaper.sweep() == 0  # first seen terminated now
    clock.now = 299
    assert reaper.sweep() == 0 and set(gone) <= set(listed(ec2))
    clock.now = 300
    assert reaper.sweep() == 3
    assert set(listed(ec2)) == set(kept + half)  # running, and a partly running reservation
    assert listed(ec2)[half[0]] == "terminated"
    tagged = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": gone}])["Tags"]
    assert tagged == []


def test_the_clock_starts_when_the_reaper_first_sees_them_terminated(ec2):
    clock = Clock()
    reaper = TerminatedReaper(60, clock=clock)
    first = launch(ec2, 1, "a")
    ec2.terminate_instances(InstanceIds=first)
    assert reaper.sweep() == 0
    clock.now = 50
    later = launch(ec2, 1, "b")
    ec2.terminate_instances(InstanceIds=later)
    clock.now = 70
    assert reaper.sweep() == 1  # the first only: the second was first seen just now
    assert set(listed(ec2)) == set(later)
    clock.now = 129
    assert reaper.sweep() == 0
    clock.now = 130
    assert reaper.sweep() == 1 and listed(ec2) == {}


def test_nothing_terminated_nothing_removed(ec2):
    reaper = TerminatedReaper(0, clock=Clock())
    running = launch(ec2, 2, "a")
    assert reaper.sweep() == 0
    assert set(listed(ec2)) == set(running)
