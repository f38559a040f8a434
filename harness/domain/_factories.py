"""Test data: a fresh customer with its token, and a fleet of EC2 instances in the simulator.

A fleet is described by a small spec (pools of instance type x count); instances are tagged
``optiinfra:customer=<id>`` and ``optiinfra:pool=<name>``, which is how the platform finds them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from ._api import PortalClient

# An AMI of moto's default set. Listing images instead costs seconds per call (1300+ AMIs).
DEFAULT_AMI = "ami-12c6146b"
CUSTOMER_TAG = "optiinfra:customer"
POOL_TAG = "optiinfra:pool"


class PoolSpec(BaseModel):
    name: str
    instance_type: str
    count: int = Field(ge=1, le=50)


class FleetSpec(BaseModel):
    pools: list[PoolSpec]
    region: str = "us-east-1"

    @property
    def size(self) -> int:
        return sum(p.count for p in self.pools)


# The seed's fleet: GPU inference plus a CPU API tier, all on-demand (6 instances).
DEFAULT_FLEET = FleetSpec(pools=[
    PoolSpec(name="inference", instance_type="g5.2xlarge", count=4),
    PoolSpec(name="api", instance_type="m5.xlarge", count=2),
])


@dataclass
class Customer:
    id: str
    name: str
    token: str = field(repr=False)
    client: PortalClient = field(repr=False)


@dataclass
class Fleet:
    customer_id: str
    spec: FleetSpec
    instance_ids: list[str]


def create_customer(api: PortalClient, name: str | None = None) -> Customer:
    name = name or f"e2e-{uuid.uuid4().hex[:8]}"
    created = api.create_customer(name)
    return Customer(id=created.id, name=created.name, token=created.api_token,
                    client=api.with_token(created.api_token))


def launch_fleet(ec2: Any, customer_id: str, spec: FleetSpec = DEFAULT_FLEET,
                 image_id: str = DEFAULT_AMI) -> Fleet:
    ids: list[str] = []
    for pool in spec.pools:
        run = ec2.run_instances(
            ImageId=image_id, InstanceType=pool.instance_type, MinCount=pool.count,
            MaxCount=pool.count, TagSpecifications=[{"ResourceType": "instance", "Tags": [
                {"Key": CUSTOMER_TAG, "Value": customer_id},
                {"Key": POOL_TAG, "Value": pool.name}]}])
        ids += [i["InstanceId"] for i in run["Instances"]]
    return Fleet(customer_id=customer_id, spec=spec, instance_ids=ids)


def customer_instances(ec2: Any, customer_id: str, *, running_only: bool = True
                       ) -> list[dict[str, Any]]:
    filters = [{"Name": f"tag:{CUSTOMER_TAG}", "Values": [customer_id]}]
    if running_only:
        filters.append({"Name": "instance-state-name", "Values": ["pending", "running"]})
    pages = ec2.get_paginator("describe_instances").paginate(Filters=filters)
    return [i for page in pages for r in page["Reservations"] for i in r["Instances"]]


def terminate_customer_instances(ec2: Any, customer_id: str) -> int:
    """Terminate every instance of the customer, the platform's spot instances included."""
    ids = [i["InstanceId"] for i in customer_instances(ec2, customer_id)]
    if ids:
        ec2.terminate_instances(InstanceIds=ids)
    return len(ids)
