"""The typed portal client over a mock transport: auth headers, models, errors, masking."""

from __future__ import annotations

import asyncio
import inspect
import json

import httpx
import pytest
from pydantic import ValidationError

from harness.core import HarnessError
from harness.domain import (
    REPO_ROOT,
    ApiError,
    ApiStatusError,
    ApiUnreachableError,
    AsyncPortalClient,
    CataloguePublic,
    FaultsPublic,
    OptimizationPublic,
    PortalClient,
    RecommendationPublic,
    RollbackAccepted,
    SavingsReportPublic,
)

pytestmark = pytest.mark.unit


def _handler(seen: list[httpx.Request]):
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/v1/customers":
            return httpx.Response(201, json={"id": "c1", "name": "acme", "api_token": "tok-1"})
        if request.url.path == "/api/v1/costs":
            return httpx.Response(200, json={"monthly_cost": 1234.5, "currency": "USD",
                                             "by_pool": {"gpu": 1000}})
        if request.url.path.startswith("/api/v1/recommendations/missing"):
            return httpx.Response(404, json={"detail": "recommendation not found"})
        if request.url.path == "/api/v1/recommendations":
            return httpx.Response(200, json={"data": [{
                "id": "r1", "kind": "spot_migration", "status": "validated",
                "estimated_monthly_savings": 100.0, "confidence": 0.8,
                "validations": [{"agent": "performance", "verdict": "approve", "reason": "ok"},
                                {"agent": "application", "verdict": "approve", "reason": "ok"},
                                {"agent": "resource", "verdict": "reject", "reason": "cpu"}],
            }], "count": 1})
        return httpx.Response(500, text="boom")
    return handle


def test_admin_and_bearer_headers_and_typed_models():
    seen: list[httpx.Request] = []
    api = PortalClient("http://portal", admin_token="adm", transport=httpx.MockTransport(
        _handler(seen)))
    customer = api.create_customer("acme")
    assert customer.id == "c1" and customer.api_token == "tok-1"
    assert seen[0].headers["X-Admin-Token"] == "adm"
    assert json.loads(seen[0].content) == {"name": "acme"}

    client = api.with_token(customer.api_token)
    costs = client.get_costs()
    assert costs.monthly_cost == 1234.5
    assert costs.by_pool == {"gpu": 1000}  # extensions of the contract are kept
    assert seen[1].headers["Authorization"] == "Bearer tok-1"
    recs = client.list_recommendations(kind="spot_migration", status="validated")
    assert seen[2].url.params["kind"] == "spot_migration"
    assert recs.data[0].approving_agents == ["application", "performance"]


def test_error_carries_request_status_and_body():
    api = PortalClient("http://portal", token="t", transport=httpx.MockTransport(_handler([])))
    with pytest.raises(ApiError) as err:
        api.get_recommendation("missing")
    assert err.value.status == 404
    assert err.value.body == {"detail": "recommendation not found"}
    assert "GET http://portal/api/v1/recommendations/missing -> 404" in str(err.value)


def test_unreachable_portal_is_an_api_error_with_no_status():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    api = PortalClient("http://portal", token="t", transport=httpx.MockTransport(refuse))
    with pytest.raises(ApiUnreachableError) as err:
        api.get_costs()
    assert isinstance(err.value, ApiError)  # `except ApiError` still catches both kinds
    assert err.value.status is None and "connection refused" in str(err.value)
    assert isinstance(err.value.__cause__, httpx.ConnectError)


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_gateway_error_is_unreachable_with_its_status_and_body(status):
    def gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"detail": "orchestrator unavailable"})

    api = PortalClient("http://portal", token="t", transport=httpx.MockTransport(gateway))
    with pytest.raises(ApiUnreachableError) as err:
        api.get_costs()
    assert (err.value.status, err.value.body) == (status, {"detail": "orchestrator unavailable"})
    assert (err.value.method, err.value.url) == ("GET", "http://portal/api/v1/costs")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 500])
def test_any_other_error_status_is_a_status_error(status):
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"detail": f"status {status}"})

    api = PortalClient("http://portal", token="t", transport=httpx.MockTransport(answer))
    with pytest.raises(ApiStatusError) as err:
        api.get_optimization("o1")
    assert isinstance(err.value, ApiError) and not isinstance(err.value, ApiUnreachableError)
    assert (err.value.status, err.value.body) == (status, {"detail": f"status {status}"})
    assert f"GET http://portal/api/v1/optimizations/o1 -> {status}: status {status}" \
        in str(err.value)


def test_exchanges_are_recorded_with_tokens_masked():
    api = PortalClient("http://portal", admin_token="adm", transport=httpx.MockTransport(
        _handler([])))
    customer = api.create_customer("acme")
    customer_client = api.with_token(customer.api_token)
    customer_client.get_costs()
    assert [(e.method, e.status) for e in api.exchanges] == [("POST", 201), ("GET", 200)]
    assert api.exchanges[0].response_body["api_token"] == "***"
    assert "tok-1" not in repr(api.exchanges)


def test_async_twin_has_the_same_methods_and_works():
    def public(cls: type) -> set[str]:
        return {n for n, _ in inspect.getmembers(cls, inspect.isfunction)
                if not n.startswith("_")}

    sync_only = {"close", "wait_until_healthy"}
    async_only = {"aclose"}
    assert public(PortalClient) - sync_only == public(AsyncPortalClient) - async_only

    async def run() -> float:
        async with AsyncPortalClient("http://portal", token="t",
                                     transport=httpx.MockTransport(_handler([]))) as client:
            return (await client.get_costs()).monthly_cost

    assert asyncio.run(run()) == 1234.5


# -- the endpoints added for the scenarios that used raw httpx --------------------------------
# A fake portal that answers each (method, path) from a table and records what it was sent.

NOW = "2026-01-02T03:04:05Z"
OPTIMIZATION = {
    "id": "o1", "recommendation_id": "r1", "status": "completed",
    "steps": [{"name": "migration_plan", "status": "completed", "traffic_pct": 0,
               "started_at": NOW, "finished_at": NOW,
               "detail": {"executed": False, "plan": {"moves": []}}}],
    "predicted_monthly_savings": 10.0, "actual_monthly_savings": 9.5, "cost_before": 100.0,
    "cost_after": 90.5, "quality_score": 0.95, "spot_instance_ids": [], "reason": None,
    "rollback_requested": None, "pattern_id": "p1", "created_at": NOW, "started_at": NOW,
    "finished_at": NOW}
CATALOGUE = {
    "source": "list prices", "as_of": "2025-06-01", "currency": "USD", "hours_per_month": 730,
    "regions": {"us-east-1": {"g5.2xlarge": {"on_demand": 1.212, "spot": 0.485,
                                             "interruption": "5-10%"}}},
    "cross_cloud": {
        "source": "equivalents", "egress_per_gb": 0.09, "egress_gb_per_instance_month": 2000,
        "migration_cost_per_instance": 600.0, "amortisation_months": 12,
        "sources": {k: {"source": f"{k} pricing", "as_of": "2025-06-01"}
                    for k in ("gcp", "azure", "egress")},
        "equivalents": {"us-east-1": {"g5.2xlarge": [
            {"cloud": "gcp", "region": "us-east1", "instance_type": "g2-standard-8",
             "on_demand": 0.85},
            {"cloud": "azure", "region": "eastus", "instance_type": "NV36ads_A10_v5",
             "on_demand": 3.2}]}}}}
SAVINGS = {
    "currency": "USD", "region": "us-east-1",
    "optimizations": [{"id": "o1", "recommendation_id": "r1", "kind": "spot_migration",
                       "status": "completed", "predicted_monthly_savings": 10.0,
                       "actual_monthly_savings": 9.5, "cost_before": 100.0,
                       "cost_after": 90.5, "finished_at": NOW}],
    "counts": {"completed": 1},
    "by_kind": {"spot_migration": {"count": 1, "predicted_monthly_savings": 10.0,
                                   "realised_monthly_savings": 9.5}},
    "predicted_monthly_savings": 10.0, "realised_monthly_savings": 9.5,
    "prediction_error": 0.05, "baseline_monthly_cost": 100.0, "current_monthly_cost": 90.5,
    "monthly_cost_change": -9.5}
FAULTS = {"data": [
    {"customer_id": "c1", "pool": "inference", "variant": "*", "quality_drop": 0.0,
     "added_latency_ms": 0.0, "error_rate": 0.0, "demand_multiplier": 2.5, "duration_s": None,
     "expires_in_s": None},
    {"customer_id": "c2", "pool": "*", "variant": "spot", "quality_drop": 0.2,
     "added_latency_ms": 0.0, "error_rate": 0.0, "demand_multiplier": 1.0, "duration_s": 30,
     "expires_in_s": 29.9}], "count": 2}
RECOMMENDATION = {"id": "r1", "kind": "spot_migration", "status": "rejected",
                  "estimated_monthly_savings": 10.0, "confidence": 0.7,
                  "reason": "too risky", "validations": []}
ANSWERS: dict[tuple[str, str], tuple[int, object]] = {
    ("GET", "/api/v1/me"): (200, {"id": "c1", "name": "acme", "created_at": NOW}),
    ("GET", "/api/v1/optimizations"): (200, {"data": [OPTIMIZATION], "count": 1}),
    ("GET", "/api/v1/catalogue"): (200, CATALOGUE),
    ("GET", "/api/v1/costs"): (200, {"monthly_cost": 12.5, "currency": "USD"}),
    ("GET", "/api/v1/reports/savings"): (200, SAVINGS),
    ("POST", "/api/v1/analyses"): (202, {"id": "a1", "status": "pending"}),
    ("POST", "/api/v1/optimizations/o1/rollback"): (
        202, {"id": "o1", "status": "running", "rollback_requested": "customer said so"}),
    ("POST", "/api/v1/recommendations/r1/reject"): (200, RECOMMENDATION),
    ("PUT", "/admin/faults"): (200, FAULTS),
    ("GET", "/admin/faults"): (200, FAULTS),
    ("DELETE", "/admin/faults"): (200, {"cleared": 2}),
    ("GET", "/admin/workload"): (200, {"last_tick": NOW, "last_error": None,
                                       "inventory_error": None, "samples_written": 42}),
}


def _portal(seen: list[httpx.Request], status: int | None = None, body: object = None):
    """Answers from ANSWERS, or ``status``/``body`` for every request when given."""
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if status is not None:
            return httpx.Response(status, json=body)
        answer = ANSWERS.get((request.method, request.url.path))
        if answer is None:
            return httpx.Response(404, json={"detail": f"no route {request.url.path}"})
        return httpx.Response(answer[0], json=answer[1])
    return handle


# (method, args, kwargs) -> (HTTP method, path, query params, JSON body or None, admin?)
CALLS = [
    ("me", (), {}, ("GET", "/api/v1/me", {}, None, False)),
    ("list_optimizations", (), {}, ("GET", "/api/v1/optimizations", {}, None, False)),
    ("list_optimizations", (), {"limit": 5},
     ("GET", "/api/v1/optimizations", {"limit": "5"}, None, False)),
    ("catalogue", (), {}, ("GET", "/api/v1/catalogue", {}, None, False)),
    ("get_costs", (), {}, ("GET", "/api/v1/costs", {}, None, False)),
    ("get_costs", (), {"region": "us-west-2"},
     ("GET", "/api/v1/costs", {"region": "us-west-2"}, None, False)),
    ("savings_report", (), {}, ("GET", "/api/v1/reports/savings", {}, None, False)),
    ("savings_report", (), {"region": "us-west-2"},
     ("GET", "/api/v1/reports/savings", {"region": "us-west-2"}, None, False)),
    ("start_analysis", ("cost",), {},
     ("POST", "/api/v1/analyses", {}, {"kind": "cost"}, False)),
    ("start_analysis", ("cost", ["aws", "gcp", "azure"]), {},
     ("POST", "/api/v1/analyses", {}, {"kind": "cost", "clouds": ["aws", "gcp", "azure"]},
      False)),
    ("start_analysis", ("full",), {"clouds": ["aws", "azure"], "region": "us-west-2"},
     ("POST", "/api/v1/analyses", {},
      {"kind": "full", "clouds": ["aws", "azure"], "region": "us-west-2"}, False)),
    ("rollback_optimization", ("o1",), {},
     ("POST", "/api/v1/optimizations/o1/rollback", {}, None, False)),
    ("rollback_optimization", ("o1",), {"reason": "customer said so"},
     ("POST", "/api/v1/optimizations/o1/rollback", {}, {"reason": "customer said so"}, False)),
    ("reject_recommendation", ("r1",), {},
     ("POST", "/api/v1/recommendations/r1/reject", {}, None, False)),
    ("reject_recommendation", ("r1",), {"reason": "too risky"},
     ("POST", "/api/v1/recommendations/r1/reject", {}, {"reason": "too risky"}, False)),
    ("inject_fault", ("c1",), {"pool": "inference", "demand_multiplier": 2.5},
     ("PUT", "/admin/faults", {},
      {"customer_id": "c1", "pool": "inference", "variant": "*", "demand_multiplier": 2.5},
      True)),
    ("inject_fault", ("c2",), {"variant": "spot", "quality_drop": 0.2, "duration_s": 30},
     ("PUT", "/admin/faults", {},
      {"customer_id": "c2", "pool": "*", "variant": "spot", "quality_drop": 0.2,
       "duration_s": 30}, True)),
    ("list_faults", (), {}, ("GET", "/admin/faults", {}, None, True)),
    ("clear_faults", ("c1",), {}, ("DELETE", "/admin/faults", {"customer_id": "c1"}, None,
                                   True)),
    ("workload_state", (), {}, ("GET", "/admin/workload", {}, None, True)),
]
CALL_IDS = [f"{name}{args}{kwargs}" for name, args, kwargs, _ in CALLS]


def _sync(name: str, args: tuple, kwargs: dict, handler) -> object:
    with PortalClient("http://portal", token="tok-1", admin_token="adm",
                      transport=httpx.MockTransport(handler)) as client:
        return getattr(client, name)(*args, **kwargs)


def _async(name: str, args: tuple, kwargs: dict, handler) -> object:
    async def run() -> object:
        async with AsyncPortalClient("http://portal", token="tok-1", admin_token="adm",
                                     transport=httpx.MockTransport(handler)) as client:
            return await getattr(client, name)(*args, **kwargs)
    return asyncio.run(run())


def _sent(request: httpx.Request) -> tuple:
    body = json.loads(request.content) if request.content else None
    return (request.method, request.url.path, dict(request.url.params), body,
            request.headers.get("X-Admin-Token"), request.headers.get("Authorization"))


@pytest.mark.parametrize(("name", "args", "kwargs", "want"), CALLS, ids=CALL_IDS)
def test_new_endpoint_sends_the_contracts_request(name, args, kwargs, want):
    method, path, params, body, admin = want
    seen: list[httpx.Request] = []
    _sync(name, args, kwargs, _portal(seen))
    assert len(seen) == 1
    # Admin calls carry the admin token and never the customer's; customer calls the reverse.
    auth = ("adm", None) if admin else (None, "Bearer tok-1")
    assert _sent(seen[0]) == (method, path, params, body, *auth)


@pytest.mark.parametrize(("name", "args", "kwargs", "want"), CALLS, ids=CALL_IDS)
def test_async_twin_sends_the_same_and_parses_the_same(name, args, kwargs, want):
    seen_sync: list[httpx.Request] = []
    seen_async: list[httpx.Request] = []
    got_sync = _sync(name, args, kwargs, _portal(seen_sync))
    got_async = _async(name, args, kwargs, _portal(seen_async))
    assert [_sent(r) for r in seen_async] == [_sent(r) for r in seen_sync]
    assert type(got_async) is type(got_sync)
    assert got_async.model_dump() == got_sync.model_dump()


@pytest.mark.parametrize(("name", "args", "kwargs", "want"), CALLS, ids=CALL_IDS)
@pytest.mark.parametrize("twin", [_sync, _async], ids=["sync", "async"])
def test_new_endpoint_error_status_is_an_api_error_with_status_and_body(
        name, args, kwargs, want, twin):
    body = {"detail": "optimization o1 already finished"}
    with pytest.raises(ApiStatusError) as err:
        twin(name, args, kwargs, _portal([], status=409, body=body))
    assert err.value.status == 409 and err.value.body == body
    assert err.value.method == want[0] and want[1] in err.value.url


def test_me_is_the_token_owner_without_the_token():
    me = _sync("me", (), {}, _portal([]))
    assert (me.id, me.name, me.created_at.year) == ("c1", "acme", 2026)
    assert not hasattr(me, "api_token")


def test_list_optimizations_parses_steps_with_their_detail():
    page = _sync("list_optimizations", (), {}, _portal([]))
    (opt,) = page.data
    assert page.count == 1 and isinstance(opt, OptimizationPublic) and opt.finished
    assert (opt.recommendation_id, opt.cost_before, opt.cost_after, opt.pattern_id) == \
        ("r1", 100.0, 90.5, "p1")
    assert opt.steps[0].detail == {"executed": False, "plan": {"moves": []}}


def test_catalogue_is_typed_down_to_the_cross_cloud_equivalents():
    cat = _sync("catalogue", (), {}, _portal([]))
    assert isinstance(cat, CataloguePublic)
    assert cat.regions["us-east-1"]["g5.2xlarge"].on_demand == 1.212
    cc = cat.cross_cloud
    assert cc.sources["gcp"].as_of == "2025-06-01" and cc.amortisation_months == 12
    gcp, azure = cc.equivalents["us-east-1"]["g5.2xlarge"]
    assert (gcp.cloud, gcp.instance_type, gcp.on_demand) == ("gcp", "g2-standard-8", 0.85)
    assert azure.cloud == "azure"


def test_the_platforms_own_price_catalogue_parses():
    # The file the orchestrator serves verbatim at /api/v1/catalogue.
    raw = json.loads((REPO_ROOT / "optiinfra" / "data" / "prices.json").read_text())
    cat = CataloguePublic.model_validate(raw)
    assert cat.regions and cat.cross_cloud.equivalents
    assert {"gcp", "azure", "egress"} <= set(cat.cross_cloud.sources)


def test_savings_report_lines_and_sums():
    report = _sync("savings_report", (), {}, _portal([]))
    assert isinstance(report, SavingsReportPublic)
    (line,) = report.optimizations
    assert (line.id, line.actual_monthly_savings, line.finished_at.year) == ("o1", 9.5, 2026)
    assert report.counts == {"completed": 1} and report.monthly_cost_change == -9.5
    assert report.by_kind["spot_migration"]["realised_monthly_savings"] == 9.5


def test_savings_report_missing_a_sum_is_not_silently_zero():
    broken = {k: v for k, v in SAVINGS.items() if k != "realised_monthly_savings"}
    with pytest.raises(ValidationError, match="realised_monthly_savings"):
        _sync("savings_report", (), {}, _portal([], status=200, body=broken))


def test_rollback_and_reject_answers_are_typed():
    accepted = _sync("rollback_optimization", ("o1",), {"reason": "customer said so"},
                     _portal([]))
    assert isinstance(accepted, RollbackAccepted)
    assert (accepted.id, accepted.status, accepted.rollback_requested) == \
        ("o1", "running", "customer said so")
    rec = _sync("reject_recommendation", ("r1",), {"reason": "too risky"}, _portal([]))
    assert isinstance(rec, RecommendationPublic)
    assert (rec.id, rec.status, rec.reason) == ("r1", "rejected", "too risky")


@pytest.mark.parametrize("name", ["start_analysis", "rollback_optimization"])
def test_an_accepted_call_answering_200_breaks_the_contract(name):
    # Both are documented 202 (accepted, not done): another success status is a contract bug.
    args = ("cost",) if name == "start_analysis" else ("o1",)
    body = {"id": "a1", "status": "pending", "rollback_requested": "x"}
    with pytest.raises(ApiError) as err:
        _sync(name, args, {}, _portal([], status=200, body=body))
    assert err.value.status == 200


def test_faults_are_typed_and_filtered_per_customer():
    faults = _sync("inject_fault", ("c1",), {"pool": "inference", "demand_multiplier": 2.5},
                   _portal([]))
    assert isinstance(faults, FaultsPublic) and faults.count == 2
    (mine,) = faults.of("c1")
    assert (mine.pool, mine.variant, mine.demand_multiplier, mine.expires_in_s) == \
        ("inference", "*", 2.5, None)
    assert [f.quality_drop for f in faults.of("c2")] == [0.2]
    assert _sync("clear_faults", ("c1",), {}, _portal([])).cleared == 2
    state = _sync("workload_state", (), {}, _portal([]))
    assert state.samples_written == 42 and state.last_tick is not None


def test_clear_faults_never_clears_every_customers_faults():
    # The portal clears every customer's faults when no customer id is given.
    seen: list[httpx.Request] = []
    for twin in (_sync, _async):
        with pytest.raises(ValueError, match="customer id"):
            twin("clear_faults", ("",), {}, _portal(seen))
    assert seen == []


@pytest.mark.parametrize(("name", "args", "kwargs"), [
    ("inject_fault", ("c1",), {"quality_dorp": 0.2}),  # a misspelt effect
    ("start_analysis", ("cost", ["aws", "oracle"]), {}),  # a cloud the contract lacks
    ("start_analysis", ("everything",), {}),
])
def test_requests_outside_the_contract_are_refused_before_sending(name, args, kwargs):
    seen: list[httpx.Request] = []
    with pytest.raises(ValidationError):
        _sync(name, args, kwargs, _portal(seen))
    assert seen == []


def test_admin_exchanges_are_recorded_in_the_shared_story():
    api = PortalClient("http://portal", admin_token="adm",
                       transport=httpx.MockTransport(_portal([])))
    customer_client = api.with_token("tok-1")
    customer_client.inject_fault("c1", pool="inference", demand_multiplier=2.5)
    customer_client.clear_faults("c1")
    assert [(e.method, e.url, e.status) for e in api.exchanges] == [
        ("PUT", "http://portal/admin/faults", 200),
        ("DELETE", "http://portal/admin/faults?customer_id=c1", 200)]
    assert api.exchanges[0].request_body == {"customer_id": "c1", "pool": "inference",
                                             "variant": "*", "demand_multiplier": 2.5}
    assert api.exchanges[1].response_body == {"cleared": 2}


# The client's models are its own (the harness never imports the platform), so nothing but
# this keeps them in step with the server's: every field the client names, the server has.
MIRRORS = [
    ("MePublic", None), ("CataloguePublic", None),
    ("OptimizationsPublic", "OptimizationsPublic"), ("OptimizationPublic", "OptimizationPublic"),
    ("OptimizationStep", "StepPublic"), ("RollbackAccepted", "RollbackAccepted"),
    ("SavingsReportPublic", "SavingsReportPublic"), ("SavingsLine", "SavingsLine"),
    ("FaultCreate", "FaultCreate"), ("FaultPublic", "FaultPublic"),
    ("FaultsPublic", "FaultsPublic"), ("DecisionRequest", "DecisionRequest"),
    ("AnalysisCreate", "AnalysisCreate"), ("RecommendationPublic", "RecommendationPublic"),
]


@pytest.mark.parametrize(("client_name", "server_name"),
                         [m for m in MIRRORS if m[1] is not None],
                         ids=[m[0] for m in MIRRORS if m[1] is not None])
def test_client_model_names_only_fields_the_server_sends(client_name, server_name):
    from harness.domain import _models as client_models
    from optiinfra.common import models as server_models

    client = set(getattr(client_models, client_name).model_fields)
    server = set(getattr(server_models, server_name).model_fields)
    assert client <= server, f"{client_name} names {sorted(client - server)}"


def test_an_admin_call_without_an_admin_token_fails_before_sending():
    seen: list[httpx.Request] = []
    api = PortalClient("http://portal", token="tok-1",
                       transport=httpx.MockTransport(_portal(seen)))
    with pytest.raises(HarnessError, match=r"PUT /admin/faults is an admin call .* admin_token"):
        api.inject_fault("c1", quality_drop=0.2)
    assert seen == []


def test_an_empty_admin_token_is_sent_as_is():
    seen: list[httpx.Request] = []
    api = AsyncPortalClient("http://portal", admin_token="",
                            transport=httpx.MockTransport(_portal(seen)))
    asyncio.run(api.list_faults())
    assert seen[0].headers["X-Admin-Token"] == ""
