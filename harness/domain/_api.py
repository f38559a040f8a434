"""Typed portal client: ``PortalClient`` and ``AsyncPortalClient`` with the same method names.

Both build each call from one description (``_Call``) in ``_Endpoints``, so the twins cannot
drift. Errors are ``ApiError`` carrying the request, the status and the body: either
``ApiUnreachableError`` (no answer, 502/503/504; transient) or ``ApiStatusError`` (any other
unexpected status; never retried). Every exchange
is kept (tokens masked) so a failing test can show what it said to the platform.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel

from harness.core import HarnessError, mask_data, wait_for

from . import _models as m

M = TypeVar("M", bound=BaseModel)


class ApiError(HarnessError):
    """A portal call failed: base of ApiUnreachableError and ApiStatusError.

    Carries the request (method, URL with its query, body sent), the status (None when nothing
    answered) and the body of the answer."""

    def __init__(self, method: str, url: str, status: int | None, body: Any,
                 request_body: Any = None) -> None:
        self.method, self.url, self.status, self.body = method, url, status, body
        self.request_body = request_body
        detail = body.get("detail") if isinstance(body, dict) else body
        sent = f"\n  request body: {request_body!r}" if request_body is not None else ""
        super().__init__(f"{method} {url} -> {status}: {str(detail)[:600]}{sent}")


class ApiUnreachableError(ApiError):
    """No answer (connect or read error, timeout), or a gateway's 502/503/504: the portal or
    what is behind it is not there right now. Transient: waits retry it."""


class ApiStatusError(ApiError):
    """The portal answered with a status the call does not expect (401, 404, 409, 422, 500...).
    Not transient: a wait fails at once with it."""


# docs/api.md, Errors: 503 "a dependency is down", 502/504 "an agent failed or did not answer
# in time": the platform is (partly) not there right now, as with no answer at all.
UNREACHABLE_STATUSES = frozenset({502, 503, 504})


@dataclass
class Exchange:
    """One HTTP request and its answer, secrets masked."""

    at: float
    method: str
    url: str
    status: int | None
    request_body: Any
    response_body: Any
    elapsed_ms: float


@dataclass(frozen=True)
class _Call(Generic[M]):
    method: str
    path: str
    model: type[M]
    json: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    admin: bool = False
    expect: tuple[int, ...] = (200, 201, 202, 204)


class _Endpoints:
    """Every call of the contract, described once for both clients."""

    @staticmethod
    def health() -> _Call[m.HealthPublic]:
        return _Call("GET", "/health", m.HealthPublic, expect=(200,))

    @staticmethod
    def create_customer(name: str) -> _Call[m.CustomerPublic]:
        return _Call("POST", "/api/v1/customers", m.CustomerPublic,
                     json=m.CustomerCreate(name=name).model_dump(), admin=True)

    @staticmethod
    def me() -> _Call[m.MePublic]:
        return _Call("GET", "/api/v1/me", m.MePublic, expect=(200,))

    @staticmethod
    def discover(region: str) -> _Call[m.DiscoveryPublic]:
        return _Call("POST", "/api/v1/infrastructure/discover", m.DiscoveryPublic,
                     json=m.DiscoverRequest(region=region).model_dump())

    @staticmethod
    def get_costs(region: str | None) -> _Call[m.CostPublic]:
        return _Call("GET", "/api/v1/costs", m.CostPublic,
                     params={"region": region} if region else None)

    @staticmethod
    def catalogue() -> _Call[m.CataloguePublic]:
        return _Call("GET", "/api/v1/catalogue", m.CataloguePublic, expect=(200,))

    @staticmethod
    def savings_report(region: str | None) -> _Call[m.SavingsReportPublic]:
        return _Call("GET", "/api/v1/reports/savings", m.SavingsReportPublic,
                     params={"region": region} if region else None, expect=(200,))

    @staticmethod
    def start_analysis(kind: str, clouds: list[str] | None, region: str | None
                       ) -> _Call[m.AnalysisPublic]:
        # Only what the caller chose is sent: the platform's defaults stay its own.
        body = m.AnalysisCreate.model_validate({"kind": kind, "clouds": clouds,
                                                "region": region})
        return _Call("POST", "/api/v1/analyses", m.AnalysisPublic,
                     json=body.model_dump(exclude_none=True), expect=(202,))

    @staticmethod
    def get_analysis(analysis_id: str) -> _Call[m.AnalysisPublic]:
        return _Call("GET", f"/api/v1/analyses/{analysis_id}", m.AnalysisPublic)

    @staticmethod
    def list_recommendations(status: str | None, kind: str | None
                             ) -> _Call[m.RecommendationsPublic]:
        params = {k: v for k, v in (("status", status), ("kind", kind)) if v}
        return _Call("GET", "/api/v1/recommendations", m.RecommendationsPublic, params=params)

    @staticmethod
    def get_recommendation(rec_id: str) -> _Call[m.RecommendationPublic]:
        return _Call("GET", f"/api/v1/recommendations/{rec_id}", m.RecommendationPublic)

    @staticmethod
    def approve_recommendation(rec_id: str) -> _Call[m.ApprovalPublic]:
        return _Call("POST", f"/api/v1/recommendations/{rec_id}/approve", m.ApprovalPublic)

    @staticmethod
    def reject_recommendation(rec_id: str, reason: str | None
                              ) -> _Call[m.RecommendationPublic]:
        return _Call("POST", f"/api/v1/recommendations/{rec_id}/reject",
                     m.RecommendationPublic, json=_decision(reason), expect=(200,))

    @staticmethod
    def list_optimizations(limit: int | None) -> _Call[m.OptimizationsPublic]:
        return _Call("GET", "/api/v1/optimizations", m.OptimizationsPublic,
                     params={"limit": limit} if limit is not None else None, expect=(200,))

    @staticmethod
    def get_optimization(opt_id: str) -> _Call[m.OptimizationPublic]:
        return _Call("GET", f"/api/v1/optimizations/{opt_id}", m.OptimizationPublic)

    @staticmethod
    def rollback_optimization(opt_id: str, reason: str | None) -> _Call[m.RollbackAccepted]:
        return _Call("POST", f"/api/v1/optimizations/{opt_id}/rollback", m.RollbackAccepted,
                     json=_decision(reason), expect=(202,))

    @staticmethod
    def metrics_summary(window_s: int) -> _Call[m.MetricsSummary]:
        return _Call("GET", "/api/v1/metrics/summary", m.MetricsSummary,
                     params={"window": window_s})

    @staticmethod
    def list_patterns() -> _Call[m.PatternsPublic]:
        return _Call("GET", "/api/v1/patterns", m.PatternsPublic)

    @staticmethod
    def audit(entity_id: str | None) -> _Call[m.AuditPublic]:
        return _Call("GET", "/api/v1/audit", m.AuditPublic,
                     params={"entity_id": entity_id} if entity_id else None)

    # -- admin: the workload simulator's faults, proxied by the portal (X-Admin-Token) --

    @staticmethod
    def inject_fault(customer_id: str, pool: str, variant: str,
                     effects: dict[str, float | None]) -> _Call[m.FaultsPublic]:
        # Effects left out (or None) keep the platform's defaults (no effect, until cleared).
        body = m.FaultCreate.model_validate({"customer_id": customer_id, "pool": pool,
                                             "variant": variant, **effects})
        return _Call("PUT", "/admin/faults", m.FaultsPublic,
                     json=body.model_dump(exclude_none=True), admin=True, expect=(200,))

    @staticmethod
    def list_faults() -> _Call[m.FaultsPublic]:
        return _Call("GET", "/admin/faults", m.FaultsPublic, admin=True, expect=(200,))

    @staticmethod
    def clear_faults(customer_id: str) -> _Call[m.FaultsCleared]:
        # Without a customer the platform clears every customer's faults: on a shared stack
        # that would reach into other tests, so the client never sends that.
        if not customer_id:
            raise ValueError("clear_faults needs a customer id (an empty one clears them all)")
        return _Call("DELETE", "/admin/faults", m.FaultsCleared,
                     params={"customer_id": customer_id}, admin=True, expect=(200,))

    @staticmethod
    def workload_state() -> _Call[m.WorkloadState]:
        return _Call("GET", "/admin/workload", m.WorkloadState, admin=True, expect=(200,))


def _decision(reason: str | None) -> dict[str, Any] | None:
    """The optional ``{"reason"}`` body of a rejection or rollback (none without a reason)."""
    return None if reason is None else m.DecisionRequest(reason=reason).model_dump()


E = _Endpoints


class _Base:
    def __init__(self, base_url: str, *, token: str | None = None,
                 admin_token: str | None = None, timeout: float = 15.0,
                 transport: Any = None, exchanges: list[Exchange] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.admin_token = admin_token
        self.timeout = timeout
        self._transport = transport
        # Shared between a client and the clones made by with_token(): one story per test.
        self.exchanges: list[Exchange] = [] if exchanges is None else exchanges

    def _headers(self, call: _Call[Any]) -> dict[str, str]:
        if call.admin:
            if self.admin_token is None:  # "" is sent as is: a test may want the 401/403
                raise HarnessError(
                    f"{call.method} {call.path} is an admin call and this client has no admin "
                    f"token: pass admin_token=... (the stack's is $E2E_ADMIN_TOKEN; the "
                    f"api_client fixture and with_token() clones of it carry it)")
            return {"X-Admin-Token": self.admin_token}
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _finish(self, call: _Call[M], response: httpx.Response | None, started: float,
                error: Exception | None = None) -> M:
        body: Any = None
        if response is not None:
            try:
                body = response.json() if response.content else None
            except ValueError:
                body = response.text
        # The query belongs to the story: which customer's faults, which window, which page.
        url = str(httpx.URL(f"{self.base_url}{call.path}", params=call.params)) \
            if call.params else f"{self.base_url}{call.path}"
        self.exchanges.append(Exchange(
            at=time.time(), method=call.method, url=url,
            status=response.status_code if response is not None else None,
            request_body=call.json, response_body=mask_secrets(body),
            elapsed_ms=(time.monotonic() - started) * 1000))
        if response is None:
            raise ApiUnreachableError(call.method, url, None, f"no answer: {error}",
                                      call.json) from error
        if response.status_code not in call.expect:
            cls = (ApiUnreachableError if response.status_code in UNREACHABLE_STATUSES
                   else ApiStatusError)
            raise cls(call.method, url, response.status_code, body, call.json)
        return call.model.model_validate(body)


def mask_secrets(body: Any) -> Any:
    """Replace secret values in a JSON body so reports never carry credentials."""
    return mask_data(body)  # the harness's one masking rule (harness.core)


class PortalClient(_Base):
    """Synchronous portal client. ``with_token`` gives the same client as another customer."""

    def __init__(self, base_url: str, **kw: Any) -> None:
        super().__init__(base_url, **kw)
        self._http = httpx.Client(base_url=self.base_url, timeout=self.timeout,
                                  transport=self._transport)

    def _call(self, call: _Call[M]) -> M:
        started = time.monotonic()
        try:
            response = self._http.request(call.method, call.path, json=call.json,
                                          params=call.params, headers=self._headers(call))
        except httpx.TransportError as exc:
            return self._finish(call, None, started, exc)
        return self._finish(call, response, started)

    def with_token(self, token: str) -> PortalClient:
        return PortalClient(self.base_url, token=token, admin_token=self.admin_token,
                            timeout=self.timeout, transport=self._transport,
                            exchanges=self.exchanges)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def health(self) -> m.HealthPublic:
        return self._call(E.health())

    def wait_until_healthy(self, timeout: float = 60.0) -> m.HealthPublic:
        return wait_for(self.health, timeout=timeout, interval=0.5,
                        transient=(ApiUnreachableError,),
                        description=f"{self.base_url}/health to answer 200")

    def create_customer(self, name: str) -> m.CustomerPublic:
        return self._call(E.create_customer(name))

    def me(self) -> m.MePublic:
        return self._call(E.me())

    def discover(self, region: str = "us-east-1") -> m.DiscoveryPublic:
        return self._call(E.discover(region))

    def get_costs(self, region: str | None = None) -> m.CostPublic:
        """The live fleet's monthly cost in ``region`` (None: the platform's default)."""
        return self._call(E.get_costs(region))

    def catalogue(self) -> m.CataloguePublic:
        return self._call(E.catalogue())

    def savings_report(self, region: str | None = None) -> m.SavingsReportPublic:
        return self._call(E.savings_report(region))

    def start_analysis(self, kind: str, clouds: list[str] | None = None, *,
                       region: str | None = None) -> m.AnalysisPublic:
        return self._call(E.start_analysis(kind, clouds, region))

    def get_analysis(self, analysis_id: str) -> m.AnalysisPublic:
        return self._call(E.get_analysis(analysis_id))

    def list_recommendations(self, *, status: str | None = None, kind: str | None = None
                             ) -> m.RecommendationsPublic:
        return self._call(E.list_recommendations(status, kind))

    def get_recommendation(self, rec_id: str) -> m.RecommendationPublic:
        return self._call(E.get_recommendation(rec_id))

    def approve_recommendation(self, rec_id: str) -> m.ApprovalPublic:
        return self._call(E.approve_recommendation(rec_id))

    def reject_recommendation(self, rec_id: str, reason: str | None = None
                              ) -> m.RecommendationPublic:
        return self._call(E.reject_recommendation(rec_id, reason))

    def list_optimizations(self, *, limit: int | None = None) -> m.OptimizationsPublic:
        return self._call(E.list_optimizations(limit))

    def get_optimization(self, opt_id: str) -> m.OptimizationPublic:
        return self._call(E.get_optimization(opt_id))

    def rollback_optimization(self, opt_id: str, reason: str | None = None
                              ) -> m.RollbackAccepted:
        return self._call(E.rollback_optimization(opt_id, reason))

    def metrics_summary(self, window_s: int = 60) -> m.MetricsSummary:
        return self._call(E.metrics_summary(window_s))

    def list_patterns(self) -> m.PatternsPublic:
        return self._call(E.list_patterns())

    def audit(self, entity_id: str | None = None) -> m.AuditPublic:
        return self._call(E.audit(entity_id))

    def inject_fault(self, customer_id: str, *, pool: str = "*", variant: str = "*",
                     **effects: float | None) -> m.FaultsPublic:
        """Admin: ``quality_drop``, ``added_latency_ms``, ``error_rate``,
        ``demand_multiplier``, ``duration_s`` (docs/api.md, Faults). Answers every active fault."""
        return self._call(E.inject_fault(customer_id, pool, variant, effects))

    def list_faults(self) -> m.FaultsPublic:
        """Admin: every customer's active faults (``.of(customer_id)`` for one's)."""
        return self._call(E.list_faults())

    def clear_faults(self, customer_id: str) -> m.FaultsCleared:
        """Admin: remove one customer's faults."""
        return self._call(E.clear_faults(customer_id))

    def workload_state(self) -> m.WorkloadState:
        return self._call(E.workload_state())


class AsyncPortalClient(_Base):
    """The async twin of PortalClient: same method names, awaitable."""

    def __init__(self, base_url: str, **kw: Any) -> None:
        super().__init__(base_url, **kw)
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout,
                                       transport=self._transport)

    async def _call(self, call: _Call[M]) -> M:
        started = time.monotonic()
        try:
            response = await self._http.request(call.method, call.path, json=call.json,
                                                params=call.params, headers=self._headers(call))
        except httpx.TransportError as exc:
            return self._finish(call, None, started, exc)
        return self._finish(call, response, started)

    def with_token(self, token: str) -> AsyncPortalClient:
        return AsyncPortalClient(self.base_url, token=token, admin_token=self.admin_token,
                                 timeout=self.timeout, transport=self._transport,
                                 exchanges=self.exchanges)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncPortalClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def health(self) -> m.HealthPublic:
        return await self._call(E.health())

    async def create_customer(self, name: str) -> m.CustomerPublic:
        return await self._call(E.create_customer(name))

    async def me(self) -> m.MePublic:
        return await self._call(E.me())

    async def discover(self, region: str = "us-east-1") -> m.DiscoveryPublic:
        return await self._call(E.discover(region))

    async def get_costs(self, region: str | None = None) -> m.CostPublic:
        return await self._call(E.get_costs(region))

    async def catalogue(self) -> m.CataloguePublic:
        return await self._call(E.catalogue())

    async def savings_report(self, region: str | None = None) -> m.SavingsReportPublic:
        return await self._call(E.savings_report(region))

    async def start_analysis(self, kind: str, clouds: list[str] | None = None, *,
                             region: str | None = None) -> m.AnalysisPublic:
        return await self._call(E.start_analysis(kind, clouds, region))

    async def get_analysis(self, analysis_id: str) -> m.AnalysisPublic:
        return await self._call(E.get_analysis(analysis_id))

    async def list_recommendations(self, *, status: str | None = None,
                                   kind: str | None = None) -> m.RecommendationsPublic:
        return await self._call(E.list_recommendations(status, kind))

    async def get_recommendation(self, rec_id: str) -> m.RecommendationPublic:
        return await self._call(E.get_recommendation(rec_id))

    async def approve_recommendation(self, rec_id: str) -> m.ApprovalPublic:
        return await self._call(E.approve_recommendation(rec_id))

    async def reject_recommendation(self, rec_id: str, reason: str | None = None
                                    ) -> m.RecommendationPublic:
        return await self._call(E.reject_recommendation(rec_id, reason))

    async def list_optimizations(self, *, limit: int | None = None) -> m.OptimizationsPublic:
        return await self._call(E.list_optimizations(limit))

    async def get_optimization(self, opt_id: str) -> m.OptimizationPublic:
        return await self._call(E.get_optimization(opt_id))

    async def rollback_optimization(self, opt_id: str, reason: str | None = None
                                    ) -> m.RollbackAccepted:
        return await self._call(E.rollback_optimization(opt_id, reason))

    async def metrics_summary(self, window_s: int = 60) -> m.MetricsSummary:
        return await self._call(E.metrics_summary(window_s))

    async def list_patterns(self) -> m.PatternsPublic:
        return await self._call(E.list_patterns())

    async def audit(self, entity_id: str | None = None) -> m.AuditPublic:
        return await self._call(E.audit(entity_id))

    async def inject_fault(self, customer_id: str, *, pool: str = "*", variant: str = "*",
                           **effects: float | None) -> m.FaultsPublic:
        return await self._call(E.inject_fault(customer_id, pool, variant, effects))

    async def list_faults(self) -> m.FaultsPublic:
        return await self._call(E.list_faults())

    async def clear_faults(self, customer_id: str) -> m.FaultsCleared:
        return await self._call(E.clear_faults(customer_id))

    async def workload_state(self) -> m.WorkloadState:
        return await self._call(E.workload_state())
