"""Catalogue coverage and the arithmetic of cost, savings, risk, confidence, features."""

from __future__ import annotations

import json

import pytest

from optiinfra.common.domain import Instance, UnknownInstanceType
from optiinfra.common.learning import VECTOR_SIZE, cosine, fleet_features
from optiinfra.common.pricing import (
    DEFAULT_CATALOGUE,
    Catalogue,
    confidence,
    fleet_monthly_cost,
    risk_level,
    spot_plan,
)

REQUIRED = ("m5.large", "m5.xlarge", "m5.2xlarge", "c5.xlarge", "c5.2xlarge", "r5.xlarge",
            "g5.xlarge", "g5.2xlarge", "g5.12xlarge", "p3.2xlarge", "p4d.24xlarge")


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return Catalogue.load()


def fleet(*spec: tuple[str, int, str, str]) -> list[Instance]:
    out = []
    for itype, n, pool, lifecycle in spec:
        out += [Instance(f"i-{itype}-{pool}-{k}", itype, "us-east-1", lifecycle, pool)
                for k in range(n)]
    return out


def test_catalogue_declares_source_and_date_and_covers_the_contract(cat: Catalogue) -> None:
    raw = json.loads(DEFAULT_CATALOGUE.read_text())
    assert raw["source"] and raw["as_of"] and cat.currency == "USD"
    for region in ("us-east-1", "us-west-2"):
        for itype in REQUIRED:
            p = cat.price(region, itype)
            assert 0 < p.spot < p.on_demand, (region, itype)


def test_unknown_type_raises(cat: Catalogue) -> None:
    with pytest.raises(UnknownInstanceType):
        cat.price("us-east-1", "z9.mega")


def test_monthly_cost_is_hourly_times_730(cat: Catalogue) -> None:
    f = fleet(("m5.large", 2, "api", "on-demand"))
    assert fleet_monthly_cost(f, cat) == round(2 * 0.096 * 730, 2)


def test_spot_plan_for_the_journey_fleet_saves_over_30_percent(cat: Catalogue) -> None:
    f = fleet(("g5.2xlarge", 4, "inference", "on-demand"), ("m5.xlarge", 2, "api", "on-demand"))
    plan = spot_plan(f, cat)
    assert len(plan.candidates) == 6
    after = fleet_monthly_cost([Instance(i.instance_id, i.instance_type, i.region, "spot",
                                         i.pool) for i in f], cat)
    assert plan.projected_monthly_cost == pytest.approx(after, abs=0.02)
    assert plan.savings == pytest.approx(plan.current_monthly_cost - after, abs=0.02)
    assert plan.savings_pct > 0.30
    assert 0 < plan.risk < 0.15 and risk_level(plan.risk) in ("low", "medium")


def test_spot_plan_skips_spot_and_stopped_instances(cat: Catalogue) -> None:
    f = fleet(("m5.large", 1, "a", "spot"), ("m5.large", 1, "a", "on-demand"))
    f.append(Instance("i-stopped", "m5.large", "us-east-1", "on-demand", "a", "stopped"))
    plan = spot_plan(f, cat)
    assert [c.instance_id for c in plan.candidates] == ["i-m5.large-a-0"]
    assert plan.current_monthly_cost == round((0.096 + 0.0384) * 730, 2)


def test_unpriced_types_are_left_out_not_fatal(cat: Catalogue) -> None:
    f = fleet(("t3.nano", 2, "a", "on-demand"), ("m5.large", 1, "a", "on-demand"))
    assert fleet_monthly_cost(f, cat) == round(0.096 * 730, 2)
    assert [c.instance_type for c in spot_plan(f, cat).candidates] == ["m5.large"]


def test_empty_fleet_has_no_savings(cat: Catalogue) -> None:
    plan = spot_plan([], cat)
    assert plan.savings == 0 and plan.savings_pct == 0 and plan.risk == 0


def test_confidence_rises_with_similar_successes_and_falls_with_rollbacks() -> None:
    base = confidence(0.075, [])
    assert confidence(0.075, [(0.99, "completed")]) > base
    assert confidence(0.075, [(0.99, "rolled_back")]) < base
    assert confidence(0.075, [(0.5, "completed")]) == base  # dissimilar cases do not count
    assert confidence(0.075, [(1.0, "completed")] * 50) <= 0.98
    assert confidence(0.25, []) < base  # riskier types, less confidence


def test_features_of_identical_fleets_match_and_differ_from_cpu_fleets() -> None:
    gpu = fleet(("g5.2xlarge", 4, "inference", "on-demand"), ("m5.xlarge", 2, "api", "on-demand"))
    cpu = fleet(("c5.xlarge", 10, "web", "on-demand"))
    a, b = fleet_features(gpu, 3819.36, 0.6, 0.07), fleet_features(gpu, 3819.36, 0.6, 0.07)
    c = fleet_features(cpu, 1241.0, 0.6, 0.075)
    assert len(a) == VECTOR_SIZE and all(0 <= x <= 1 for x in a)
    assert cosine(a, b) == pytest.approx(1.0)
    assert cosine(a, c) < 0.9
