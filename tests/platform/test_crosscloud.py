"""Cross-cloud moves: the catalogue's equivalents, and the rule that savings must exceed
egress and amortised migration."""

from __future__ import annotations

import pytest

from optiinfra.common.crosscloud import CrossCloud
from optiinfra.common.domain import Instance, rollout_plan
from optiinfra.common.pricing import Catalogue

CAT = Catalogue.load()


def fleet(itype: str, n: int, pool: str = "p") -> list[Instance]:
    return [Instance(f"i-{pool}{k}", itype, "us-east-1", "on-demand", pool) for k in range(n)]


@pytest.fixture
def cross() -> CrossCloud:
    assert CAT.cross_cloud_data is not None
    return CrossCloud(CAT, CAT.cross_cloud_data)


def test_every_aws_type_has_dated_equivalents_on_both_clouds(cross: CrossCloud) -> None:
    for cloud in ("gcp", "azure", "egress"):
        assert cross.sources[cloud]["source"] and cross.sources[cloud]["as_of"]
    for region in CAT.regions:
        for itype, eqs in cross.equivalents[region].items():
            CAT.price(region, itype)  # an AWS price exists for it
            assert {e.cloud for e in eqs} == {"gcp", "azure"}, (region, itype)


def test_a_move_is_worth_it_only_above_egress_and_migration(cross: CrossCloud) -> None:
    (gpu,) = cross.moves(fleet("g5.2xlarge", 4), ["gcp", "azure"])
    assert (gpu.to_cloud, gpu.to_instance_type) == ("gcp", "g2-standard-8")
    assert gpu.compute_savings == round((1.212 - 0.8536) * 4 * 730, 2)
    assert gpu.egress_monthly == 4 * 2000 * 0.09
    assert gpu.migration_monthly == round(4 * 600 / 12, 2)
    assert gpu.net_monthly_savings == round(gpu.compute_savings - 720 - 200, 2)
    assert gpu.worth_it
    (cpu,) = cross.moves(fleet("c5.2xlarge", 6), ["gcp", "azure"])
    assert cpu.to_cloud == "azure" and 0 < cpu.compute_savings < cpu.egress_monthly
    assert not cpu.worth_it


def test_only_the_allowed_clouds_and_single_type_pools(cross: CrossCloud) -> None:
    assert cross.moves(fleet("g5.2xlarge", 4), ["azure"])[0].to_cloud == "azure"
    assert cross.moves(fleet("g5.2xlarge", 4), []) == []
    mixed = fleet("g5.2xlarge", 2) + fleet("m5.xlarge", 2)  # same pool "p"
    assert cross.moves(mixed, ["gcp"]) == []
    assert [s.action for s in rollout_plan("cross_cloud_migration")] == ["plan"]
