// The customer portal: one page, one view per path, rendered from the customer API.
// /app/                          fleet, monthly cost, analyses, recommendations
// /app/recommendations/<id>      a recommendation: validations per agent, approve / reject
// /app/optimizations/<id>        a rollout, live over /ws/events, cost before and after
// The token lives in this tab's sessionStorage and goes out as a Bearer header (and as the
// WebSocket's ?token=, the only way a browser can authenticate one). DOM is built with
// textContent only: nothing the API returns is ever parsed as HTML.
"use strict";

const TOKEN_KEY = "optiinfra.token";
const $ = (sel) => document.querySelector(sel);
let view = null;          // the current view: {refresh(), onEvent(event)}
let events = null;        // the live event connection

// -- DOM helpers ---------------------------------------------------------------------------
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
const money = (v) => (v === null || v === undefined) ? "–" :
  new Intl.NumberFormat("en-US", {style: "currency", currency: "USD"}).format(v);
const pct = (v) => (v === null || v === undefined) ? "–" : `${(v * 100).toFixed(1)}%`;
const when = (v) => v ? new Date(v).toLocaleTimeString() : "–";
const kindName = (k) => k.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
function figure(testid, value, text) {
  return h("dd", {"data-testid": testid, "data-value": value ?? ""}, text);
}

// -- errors --------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, detail, method, path) {
    super(`${status} ${detail}`);
    Object.assign(this, {status, detail, method, path});
  }
}
function detailText(body) {
  const d = body && body.detail;
  if (Array.isArray(d)) return d.map((e) => `${(e.loc || []).join(".")}: ${e.msg}`).join("; ");
  return d ? String(d) : "no detail";
}
function showError(what, err) {
  const box = $("#error");
  box.replaceChildren(`Could not ${what}: `, err instanceof ApiError ? err.message : String(err));
  box.hidden = false;
  if (err instanceof ApiError && err.status === 401 && what !== "sign in") {
    signOut(`Your token was not accepted (${err.message}). Sign in again.`);
  }
}
function clearError() { $("#error").hidden = true; $("#error").replaceChildren(); }

// -- the API -------------------------------------------------------------------------------
const token = () => sessionStorage.getItem(TOKEN_KEY);
async function api(method, path, body, bearer = token()) {
  const headers = {Authorization: `Bearer ${bearer}`};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let r;
  try {
    r = await fetch(`/api/v1${path}`, {method, headers,
      body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (e) {
    throw new ApiError("network error", e.message, method, path);
  }
  let data = null;
  try { data = await r.json(); } catch (_) { /* an empty or non-JSON body */ }
  if (!r.ok) throw new ApiError(r.status, detailText(data), method, path);
  return data;
}

// Runs fn once at a time; calls that arrive meanwhile fold into one more run.
function coalesce(fn) {
  let running = false, again = false;
  return async function run() {
    if (running) { again = true; return; }
    running = true;
    try { do { again = false; await fn(); } while (again); } finally { running = false; }
  };
}

// -- live events ---------------------------------------------------------------------------
function setLive(state, text) {
  const el = $("#live");
  el.dataset.state = state;
  el.textContent = `Live updates: ${text || state}`;
}
function connectEvents() {
  if (events) return;
  let retry = 0, stopped = false, ws = null;
  const open = () => {
    if (stopped) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    ws = new WebSocket(`${scheme}://${location.host}/ws/events?token=` +
                       encodeURIComponent(token()));
    ws.onmessage = (m) => {
      let e;
      try { e = JSON.parse(m.data); } catch (_) { return; }
      if (e.type === "connected") {
        retry = 0;
        setLive("connected");
        view && view.refresh();   // catch up on whatever happened while we were away
      } else if (view && view.onEvent) {
        view.onEvent(e);
      }
    };
    ws.onclose = (ev) => {
      if (stopped) return;
      if (ev.code === 1008) {  // the portal refused the token: retrying will not help
        setLive("stopped", "stopped (token refused)");
        return;
      }
      const delay = Math.min(5000, 250 * 2 ** retry++);
      setLive("reconnecting", `reconnecting (attempt ${retry})`);
      console.warn(`event stream closed (code ${ev.code}); reconnecting in ${delay} ms`);
      setTimeout(open, delay);
    };
  };
  events = {stop() { stopped = true; if (ws) ws.close(); }};
  open();
}

// -- navigation ----------------------------------------------------------------------------
function navigate(path) {
  history.pushState(null, "", path);
  render();
}
document.addEventListener("click", (ev) => {
  const a = ev.target.closest && ev.target.closest("a[data-nav]");
  if (a && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey) {
    ev.preventDefault();
    navigate(a.getAttribute("href"));
  }
});
window.addEventListener("popstate", render);

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  if (events) { events.stop(); events = null; }
  $("#who").textContent = "";
  $("#account").hidden = true;
  history.pushState(null, "", "/app/");
  render();
  if (message) showError("continue", message);
}

async function render() {
  clearError();
  const main = $("#view");
  if (!token()) { view = signInView(main); return; }
  $("#account").hidden = false;
  if (!$("#who").textContent) loadMe();  // once per page load, whichever view it opens on
  connectEvents();
  const path = location.pathname.replace(/\/+$/, "");
  let m;
  if ((m = path.match(/^\/app\/recommendations\/([^/]+)$/))) {
    view = recommendationView(main, decodeURIComponent(m[1]));
  } else if ((m = path.match(/^\/app\/optimizations\/([^/]+)$/))) {
    view = optimizationView(main, decodeURIComponent(m[1]));
  } else if (path === "/app" || path === "") {
    view = dashboardView(main);
  } else {
    view = {refresh() {}};
    main.replaceChildren(h("h1", {}, "Page not found"),
      h("p", {}, "No page here. ", h("a", {href: "/app/", "data-nav": true}, "Back to your fleet")));
  }
  document.title = `${main.querySelector("h1")?.textContent || "Portal"} · OptiInfra`;
  await view.refresh();
}

// -- views ---------------------------------------------------------------------------------
function signInView(main) {
  $("#account").hidden = true;
  const input = h("input", {id: "token", name: "token", type: "password", autocomplete: "off",
                            required: true, "aria-describedby": "token-help"});
  const form = h("form", {"aria-label": "Sign in", onsubmit: async (ev) => {
    ev.preventDefault();
    clearError();
    const candidate = input.value.trim();
    try {
      await api("GET", "/me", undefined, candidate);
    } catch (e) { showError("sign in", e); return; }
    sessionStorage.setItem(TOKEN_KEY, candidate);
    navigate(location.pathname.startsWith("/app/") ? location.pathname : "/app/");
  }},
    h("label", {for: "token"}, "API token"),
    h("p", {id: "token-help"}, "The api_token you received when your account was created."),
    input, " ", h("button", {type: "submit"}, "Sign in"));
  main.replaceChildren(h("h1", {}, "Sign in to OptiInfra"), form);
  input.focus();
  return {refresh() {}};
}

async function loadMe() {
  try {
    const me = await api("GET", "/me");
    $("#who").textContent = `Signed in as ${me.name}`;
  } catch (e) { showError("load your account", e); }
}

function dashboardView(main) {
  const region = h("select", {id: "region", name: "region"},
    h("option", {value: "us-east-1"}, "us-east-1"), h("option", {value: "us-west-2"}, "us-west-2"));
  const cost = figure("monthly-cost", null, "–");
  const count = figure("instance-count", null, "–");
  const instances = h("tbody");
  const kind = h("select", {id: "analysis-kind", name: "kind"},
    ...["cost", "performance", "resource", "application", "full"].map(
      (k) => h("option", {value: k}, k)));
  const analysis = h("p", {"data-testid": "analysis-status", role: "status"}, "No analysis yet.");
  const recs = h("tbody");
  let analysisId = null;

  const setFigure = (testid, value, text) =>
    main.querySelector(`[data-testid="${testid}"]`).replaceWith(figure(testid, value, text));
  const refreshCost = async () => {
    try {
      const c = await api("GET", `/costs?region=${encodeURIComponent(region.value)}`);
      setFigure("monthly-cost", c.monthly_cost, money(c.monthly_cost));
      setFigure("instance-count", c.instance_count, c.instance_count);
    } catch (e) { showError("load the monthly cost", e); }
  };
  const refreshRecs = coalesce(async () => {
    try {
      const list = await api("GET", "/recommendations");
      recs.replaceChildren(...list.data.map((r) => h("tr", {"data-id": r.id, "data-kind": r.kind},
        h("td", {}, h("a", {href: `/app/recommendations/${r.id}`, "data-nav": true},
                      `${kindName(r.kind)} ${r.id.slice(0, 8)}`)),
        h("td", {"data-testid": "status"}, r.status),
        h("td", {}, money(r.estimated_monthly_savings)),
        h("td", {}, pct(r.confidence)))));
      if (!list.data.length) recs.replaceChildren(h("tr", {}, h("td", {colspan: 4}, "None yet.")));
    } catch (e) { showError("load the recommendations", e); }
  });
  const refreshAnalysis = coalesce(async () => {
    if (!analysisId) return;
    try {
      const a = await api("GET", `/analyses/${encodeURIComponent(analysisId)}`);
      analysis.dataset.status = a.status;
      analysis.textContent = `Analysis ${a.id.slice(0, 8)} (${a.kind}): ${a.status}` +
        (a.error ? ` – ${a.error}` : "");
    } catch (e) { showError("load the analysis", e); }
  });

  const discover = async (ev) => {
    ev.preventDefault();
    clearError();
    const button = ev.submitter || ev.target.querySelector("button");
    button.disabled = true;
    try {
      const inv = await api("POST", "/infrastructure/discover",
                            {provider: "aws", region: region.value});
      instances.replaceChildren(...inv.instances.map((i) => h("tr", {"data-id": i.instance_id},
        h("td", {}, i.instance_id), h("td", {}, i.instance_type), h("td", {}, i.lifecycle),
        h("td", {}, i.pool), h("td", {}, money(i.hourly_cost)))));
      setFigure("monthly-cost", inv.monthly_cost, money(inv.monthly_cost));
      setFigure("instance-count", inv.instances.length, inv.instances.length);
    } catch (e) { showError("discover your instances", e); }
    finally { button.disabled = false; }
  };
  const analyse = async (ev) => {
    ev.preventDefault();
    clearError();
    try {
      const a = await api("POST", "/analyses", {kind: kind.value, region: region.value});
      analysisId = a.id;
      analysis.dataset.id = a.id;
      analysis.dataset.status = a.status;
      analysis.textContent = `Analysis ${a.id.slice(0, 8)} (${kind.value}): ${a.status}`;
    } catch (e) { showError("start the analysis", e); }
  };

  main.replaceChildren(
    h("h1", {}, "Your fleet"),
    h("section", {"aria-labelledby": "fleet-h"},
      h("h2", {id: "fleet-h"}, "Fleet"),
      h("form", {onsubmit: discover, "aria-label": "Discover instances"},
        h("label", {for: "region"}, "Region"), region, " ",
        h("button", {type: "submit"}, "Discover instances")),
      h("dl", {}, h("dt", {}, "Monthly cost"), cost, h("dt", {}, "Instances"), count),
      h("table", {"aria-label": "Instances"},
        h("thead", {}, h("tr", {}, ["Instance", "Type", "Lifecycle", "Pool", "Hourly cost"]
          .map((t) => h("th", {scope: "col"}, t)))), instances)),
    h("section", {"aria-labelledby": "analysis-h"},
      h("h2", {id: "analysis-h"}, "Analysis"),
      h("form", {onsubmit: analyse, "aria-label": "Run an analysis"},
        h("label", {for: "analysis-kind"}, "Analysis kind"), kind, " ",
        h("button", {type: "submit"}, "Run analysis")),
      analysis),
    h("section", {"aria-labelledby": "recs-h"},
      h("h2", {id: "recs-h"}, "Recommendations"),
      h("table", {"aria-label": "Recommendations"},
        h("thead", {}, h("tr", {}, ["Recommendation", "Status", "Estimated monthly savings",
                                    "Confidence"].map((t) => h("th", {scope: "col"}, t)))),
        recs)));

  return {
    async refresh() { await Promise.all([refreshCost(), refreshRecs(), refreshAnalysis()]); },
    onEvent(e) {
      if (e.type.startsWith("recommendation.")) refreshRecs();
      if (e.type.startsWith("analysis.") && e.entity_id === analysisId) refreshAnalysis();
      if (e.type === "optimization.completed" || e.type === "optimization.rolled_back") refreshCost();
    },
  };
}

function recommendationView(main, id) {
  main.replaceChildren(h("h1", {}, "Recommendation"), h("p", {}, "Loading…"));
  let rec = null;
  const reason = h("textarea", {id: "reject-reason", name: "reason", rows: 3, maxlength: 500});

  const decide = async (what, call) => {
    clearError();
    for (const b of main.querySelectorAll("button")) b.disabled = true;
    try { return await call(); }
    catch (e) { showError(what, e); await refresh(); return null; }
  };
  const approve = async () => {
    const res = await decide("approve the recommendation",
      () => api("POST", `/recommendations/${encodeURIComponent(rec.id)}/approve`));
    if (res) navigate(`/app/optimizations/${res.optimization_id}`);
  };
  const reject = async (ev) => {
    ev.preventDefault();
    const text = reason.value.trim();
    const res = await decide("reject the recommendation",
      () => api("POST", `/recommendations/${encodeURIComponent(rec.id)}/reject`,
                text ? {reason: text} : {}));
    if (res) { rec = res; draw(); }
  };

  const draw = () => {
    const open = rec.status === "pending" || rec.status === "validated";
    const rows = rec.validations.map((v) => h("tr", {"data-agent": v.agent},
      h("th", {scope: "row"}, v.agent),
      h("td", {class: `verdict-${v.verdict}`, "data-testid": "verdict"}, v.verdict),
      h("td", {}, v.reason || "")));
    const waiting = (rec.required_validators || []).filter(
      (a) => !rec.validations.some((v) => v.agent === a));
    main.replaceChildren(
      h("h1", {}, `${kindName(rec.kind)} recommendation`),
      h("dl", {},
        h("dt", {}, "Recommendation"), figure("rec-id", rec.id, rec.id),
        h("dt", {}, "Status"), figure("rec-status", rec.status, rec.status),
        h("dt", {}, "Estimated monthly savings"),
        figure("rec-savings", rec.estimated_monthly_savings, money(rec.estimated_monthly_savings)),
        h("dt", {}, "Confidence"), figure("rec-confidence", rec.confidence, pct(rec.confidence)),
        rec.reason ? [h("dt", {}, "Reason"), figure("rec-reason", rec.reason, rec.reason)] : null),
      h("section", {"aria-labelledby": "val-h"},
        h("h2", {id: "val-h"}, "Validations"),
        h("table", {"aria-label": "Validations"},
          h("thead", {}, h("tr", {}, ["Agent", "Verdict", "Reason"].map(
            (t) => h("th", {scope: "col"}, t)))),
          h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", {colspan: 3}, "None yet.")))),
        waiting.length && open ? h("p", {role: "status"},
          `Waiting for: ${waiting.join(", ")}`) : null),
      h("section", {"aria-labelledby": "decide-h"},
        h("h2", {id: "decide-h"}, "Decision"),
        rec.optimization_id ? h("p", {}, h("a", {href: `/app/optimizations/${rec.optimization_id}`,
                                                "data-nav": true}, "Watch the rollout")) : null,
        h("button", {type: "button", onclick: approve, disabled: rec.status !== "validated",
                     "aria-describedby": "approve-help"}, "Approve"),
        h("p", {id: "approve-help"}, rec.status === "validated"
          ? "Starts the rollout." : `Approval needs status validated (now ${rec.status}).`),
        h("form", {onsubmit: reject, "aria-label": "Reject"},
          h("label", {for: "reject-reason"}, "Reason for rejecting"), reason,
          h("div", {}, h("button", {type: "submit", disabled: !open}, "Reject")))),
      h("p", {}, h("a", {href: "/app/", "data-nav": true}, "Back to your fleet")));
  };

  const refresh = coalesce(async () => {
    try {
      rec = await api("GET", `/recommendations/${encodeURIComponent(id)}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        main.replaceChildren(h("h1", {}, "Recommendation not found"),
          h("p", {role: "alert"}, `There is no recommendation ${id} in your account.`),
          h("p", {}, h("a", {href: "/app/", "data-nav": true}, "Back to your fleet")));
      } else { showError("load the recommendation", e); }
      return;
    }
    // keep what the person typed across live redraws
    const typed = reason.value;
    draw();
    reason.value = typed;
  });
  return {refresh, onEvent(e) { if (e.entity_id === id) refresh(); }};
}

function currentTraffic(opt) {
  if (opt.status === "rolled_back" || opt.status === "failed") return 0;
  const done = opt.steps.filter((s) => s.status === "completed" && s.traffic_pct !== null);
  return done.length ? Math.max(...done.map((s) => s.traffic_pct)) : 0;
}

function optimizationView(main, id) {
  main.replaceChildren(h("h1", {}, "Rollout"), h("p", {}, "Loading…"));
  let current = null;

  const draw = (opt, cost) => {
    const traffic = currentTraffic(opt);
    const fill = h("span");
    fill.style.width = `${traffic}%`;
    main.replaceChildren(
      h("h1", {}, "Rollout"),
      h("dl", {},
        h("dt", {}, "Optimization"), figure("opt-id", opt.id, opt.id),
        h("dt", {}, "Status"), figure("opt-status", opt.status, opt.status),
        h("dt", {}, "Quality score"),
        figure("opt-quality", opt.quality_score, opt.quality_score ?? "–"),
        opt.reason ? [h("dt", {}, "Reason"), figure("opt-reason", opt.reason, opt.reason)] : null),
      h("h2", {id: "traffic-h"}, "Traffic on the new instances"),
      h("div", {class: "bar", role: "progressbar", "aria-labelledby": "traffic-h",
                "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": traffic,
                "data-testid": "traffic"}, fill),
      h("p", {"data-testid": "traffic-text"}, `${traffic}% of traffic`),
      h("section", {"aria-labelledby": "steps-h"},
        h("h2", {id: "steps-h"}, "Steps"),
        h("table", {"aria-label": "Steps"},
          h("thead", {}, h("tr", {}, ["Step", "Status", "Traffic", "Started", "Finished"].map(
            (t) => h("th", {scope: "col"}, t)))),
          h("tbody", {}, opt.steps.map((s) => h("tr", {"data-step": s.name, "data-status": s.status},
            h("th", {scope: "row"}, s.name), h("td", {}, s.status),
            h("td", {}, s.traffic_pct === null ? "–" : `${s.traffic_pct}%`),
            h("td", {}, when(s.started_at)), h("td", {}, when(s.finished_at))))))),
      h("section", {"aria-labelledby": "cost-h"},
        h("h2", {id: "cost-h"}, "Cost"),
        h("dl", {},
          h("dt", {}, "Cost before"), figure("cost-before", opt.cost_before, money(opt.cost_before)),
          h("dt", {}, "Cost after"), figure("cost-after", opt.cost_after, money(opt.cost_after)),
          h("dt", {}, "Predicted monthly savings"),
          figure("predicted-savings", opt.predicted_monthly_savings,
                 money(opt.predicted_monthly_savings)),
          h("dt", {}, "Actual monthly savings"),
          figure("actual-savings", opt.actual_monthly_savings, money(opt.actual_monthly_savings)),
          h("dt", {}, "Monthly cost now"),
          figure("current-cost", cost ? cost.monthly_cost : null,
                 cost ? money(cost.monthly_cost) : "–"))),
      h("p", {}, h("a", {href: `/app/recommendations/${opt.recommendation_id}`, "data-nav": true},
                   "Back to the recommendation"), " · ",
        h("a", {href: "/app/", "data-nav": true}, "Back to your fleet")));
  };

  const refresh = coalesce(async () => {
    let opt, cost = null;
    try {
      opt = await api("GET", `/optimizations/${encodeURIComponent(id)}`);
      // the bill only changes once the rollout is over
      if (!["pending", "running"].includes(opt.status)) cost = await api("GET", "/costs");
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        main.replaceChildren(h("h1", {}, "Rollout not found"),
          h("p", {role: "alert"}, `There is no optimization ${id} in your account.`));
      } else { showError("load the rollout", e); }
      return;
    }
    current = opt;
    draw(opt, cost);
  });
  return {refresh, onEvent(e) { if (e.entity_id === id || (current && e.entity_id === current.recommendation_id)) refresh(); }};
}

document.addEventListener("DOMContentLoaded", () => {
  $("#sign-out").addEventListener("click", () => signOut());
  render();
});
