"""EC2 in the AWS simulator: a customer's fleet is the instances tagged with its id."""

from __future__ import annotations

import threading

import boto3
from botocore.config import Config

from .domain import Instance
from .edge import BoundedCache

CUSTOMER_TAG = "optiinfra:customer"
POOL_TAG = "optiinfra:pool"
OPTIMIZATION_TAG = "optiinfra:optimization"
# Instances added by a scale-out: capacity, not demand (the workload sizes demand without them).
ROLE_TAG = "optiinfra:role"
SCALE_OUT_ROLE = "scale_out"
LIVE_STATES = ["pending", "running"]


class Ec2:
    """One boto3 client per region and thread (boto3 clients are shared-safe, sessions not)."""

    def __init__(self, endpoint_url: str | None, access_key: str, secret_key: str) -> None:
        self.endpoint_url, self.access_key, self.secret_key = endpoint_url, access_key, secret_key
        # Regions come from requests: a bound, however they are validated upstream.
        self._clients: BoundedCache[str, object] = BoundedCache(16)
        self._lock = threading.Lock()

    def client(self, region: str):  # boto3 clients are untyped
        with self._lock:
            client = self._clients.get(region)
            if client is None:
                client = boto3.session.Session().client(
                    "ec2", region_name=region, endpoint_url=self.endpoint_url,
                    aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
                    config=Config(retries={"max_attempts": 2, "mode": "standard"},
                                  connect_timeout=5, read_timeout=25))
                self._clients.put(region, client)
            return client

    def instances(self, region: str, customer_id: str | None = None,
                  extra_filters: list[dict] | None = None) -> list[Instance]:
        """Live instances of one customer (or of every customer when None)."""
        filters = [{"Name": "instance-state-name", "Values": LIVE_STATES}]
        if customer_id is None:
            filters.append({"Name": "tag-key", "Values": [CUSTOMER_TAG]})
        else:
            filters.append({"Name": f"tag:{CUSTOMER_TAG}", "Values": [customer_id]})
        filters += extra_filters or []
        out: list[Instance] = []
        for page in self.client(region).get_paginator("describe_instances").paginate(
                Filters=filters):
            for res in page["Reservations"]:
                out.extend(_instance(region, i) for i in res["Instances"])
        return sorted(out, key=lambda i: i.instance_id)

    def launch_spot(self, region: str, customer_id: str, optimization_id: str,
                    instance_type: str, pool: str, image_id: str, count: int) -> list[str]:
        tags = [{"Key": CUSTOMER_TAG, "Value": customer_id}, {"Key": POOL_TAG, "Value": pool},
                {"Key": OPTIMIZATION_TAG, "Value": optimization_id}]
        resp = self.client(region).run_instances(
            ImageId=image_id or "ami-12345678", MinCount=count, MaxCount=count,
            InstanceType=instance_type,
            InstanceMarketOptions={"MarketType": "spot",
                                   "SpotOptions": {"SpotInstanceType": "one-time"}},
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])
        return [i["InstanceId"] for i in resp["Instances"]]

    def launch_scale_out(self, region: str, customer_id: str, optimization_id: str,
                         instance_type: str, pool: str, image_id: str, count: int) -> list[str]:
        tags = [{"Key": CUSTOMER_TAG, "Value": customer_id}, {"Key": POOL_TAG, "Value": pool},
                {"Key": OPTIMIZATION_TAG, "Value": optimization_id},
                {"Key": ROLE_TAG, "Value": SCALE_OUT_ROLE}]
        resp = self.client(region).run_instances(
            ImageId=image_id or "ami-12345678", MinCount=count, MaxCount=count,
            InstanceType=instance_type,
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])
        return [i["InstanceId"] for i in resp["Instances"]]

    def terminate(self, region: str, instance_ids: list[str]) -> None:
        if instance_ids:
            self.client(region).terminate_instances(InstanceIds=instance_ids)


def _instance(region: str, raw: dict) -> Instance:
    tags = {t["Key"]: t["Value"] for t in raw.get("Tags", [])}
    # moto does not filter on instance-lifecycle; the field itself is reliable.
    return Instance(
        instance_id=raw["InstanceId"], instance_type=raw["InstanceType"], region=region,
        lifecycle="spot" if raw.get("InstanceLifecycle") == "spot" else "on-demand",
        pool=tags.get(POOL_TAG, "default"), state=raw["State"]["Name"],
        image_id=raw.get("ImageId", ""),
        availability_zone=raw.get("Placement", {}).get("AvailabilityZone", ""), tags=tags)
