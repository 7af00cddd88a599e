// The operations console: one page over the gateway's REST API, signed in with an operator API key
// (kept for this tab only). Views: overview (services, queues, exception counts, the last hour),
// exceptions (filters, ageing, each item's trace), trace (a timeline across services), parked messages
// (decoded, replayed with a confirmation and the outcome shown). No build step: a plain ES module and
// uPlot from npm, both served by the gateway.
import uPlot from "/console/uPlot.esm.js";

const keyStore = "mesh.console.key";
const main = document.getElementById("main");
const nav = document.getElementById("nav");
const notice = document.getElementById("notice");
const exceptionKinds = [
  "NOT_IN_LEDGER",
  "LATE_STOCK_UPDATE",
  "CHANNEL_STOCK_DRIFT",
  "CHANNEL_ORDER_DRIFT",
  "RESERVATION_LAPSED",
  "SETTLEMENT",
];
let refresh;

/** Builds an element: h("td", { class: "num" }, "3"). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function say(text, error = false) {
  notice.textContent = text;
  notice.className = error ? "error" : "";
}

/** "3 min", "2.5 h" since an RFC 3339 time. */
function age(since) {
  if (!since) return "";
  const ms = Math.max(0, Date.now() - Date.parse(since));
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

/** A google.rpc.Status answer as one line. */
function problem(json, status) {
  const violations = (json?.details ?? []).flatMap((d) => d.fieldViolations ?? []);
  return [json?.message ?? `HTTP ${status}`, ...violations.map((v) => `${v.field}: ${v.description}`)].join(
    "; ",
  );
}

class SignedOut extends Error {}

async function api(path, init = {}) {
  const key = sessionStorage.getItem(keyStore);
  if (!key) throw new SignedOut("sign in first");
  const response = await fetch(path, {
    ...init,
    headers: { "x-api-key": key, accept: "application/json", ...(init.headers ?? {}) },
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : undefined;
  if (response.status === 401 || response.status === 403) {
    sessionStorage.removeItem(keyStore);
    throw new SignedOut(`the gateway refused the key: ${problem(json, response.status)}`);
  }
  if (!response.ok) throw new Error(problem(json, response.status));
  return { json, headers: response.headers };
}

function table(headings, rows) {
  return h(
    "table",
    {},
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        headings.map((heading) => h("th", { scope: "col" }, heading)),
      ),
    ),
    h("tbody", {}, rows),
  );
}

function show(title, ...content) {
  main.replaceChildren(h("h1", {}, title), ...content.flat().filter((part) => part !== undefined));
  const current = location.hash.split("?")[0] || "#/overview";
  for (const link of nav.querySelectorAll("a")) {
    if (link.getAttribute("href") === current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  main.focus();
}

function signIn(message = "") {
  nav.hidden = true;
  const input = h("input", { id: "api-key", type: "password", autocomplete: "off", required: true });
  const form = h(
    "form",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        sessionStorage.setItem(keyStore, input.value.trim());
        try {
          await api("/v1/status");
          say("");
          nav.hidden = false;
          location.hash = "#/overview";
          await route();
        } catch (error) {
          say(error.message, true);
        }
      },
    },
    h("label", { for: "api-key" }, "Operator API key", input),
    h("p", {}, h("button", { type: "submit" }, "Sign in")),
  );
  main.replaceChildren(h("h1", {}, "Sign in"), h("p", {}, "An API key with the operations scopes."), form);
  if (message) say(message, true);
  input.focus();
}

function chart(title, samples, series) {
  const box = h("div", { class: "chart", role: "img", "aria-label": title });
  const times = samples.map((s) => Date.parse(s.time) / 1000);
  new uPlot(
    {
      title,
      width: 520,
      height: 200,
      series: [{}, ...series.map(([label, , stroke]) => ({ label, stroke, width: 2 }))],
    },
    [times, ...series.map(([, read]) => samples.map(read))],
    box,
  );
  return box;
}

/** The gateway's own readiness: each service it calls, and its Idempotency-Key store. */
async function readiness() {
  try {
    const response = await fetch("/readyz");
    return (await response.json()).dependencies ?? {};
  } catch (error) {
    return { gateway: `not answering: ${error.message}` };
  }
}

async function overview() {
  const [{ json }, dependencies] = await Promise.all([api("/v1/status"), readiness()]);
  const rows = json.services.map((s) => {
    if (s.error)
      return h(
        "tr",
        {},
        h("td", {}, s.service),
        h("td", { class: "bad", colspan: 6 }, `not answering: ${s.error}`),
      );
    const queues = s.status.queues ?? [];
    const total = (field) => queues.reduce((n, q) => n + Math.max(0, Number(q[field] ?? 0)), 0);
    const parked = total("parked");
    return h(
      "tr",
      {},
      h("td", {}, s.service),
      h("td", { class: "ok" }, "serving"),
      h("td", { class: "num" }, Number(s.status.outboxBacklog ?? 0)),
      h("td", { class: "num" }, total("ready")),
      h("td", { class: "num" }, total("retrying")),
      h("td", { class: parked > 0 ? "num bad" : "num" }, parked),
      h("td", { class: "num" }, queues.map((q) => q.consumers ?? 0).join(" / ") || "-"),
    );
  });
  const exceptions = json.exceptions.map((e) => {
    const kind = e.kind.replace(/^EXCEPTION_KIND_/, "");
    return h(
      "tr",
      {},
      h("td", {}, h("a", { href: `#/exceptions?kind=${kind}` }, kind)),
      h("td", { class: e.open > 0 ? "num bad" : "num" }, e.open ?? 0),
      h("td", {}, age(e.oldestSince)),
    );
  });
  const samples = json.samples ?? [];
  show(
    "Overview",
    h("h2", {}, "Services"),
    table(["Service", "Health", "Outbox backlog", "Ready", "Retrying", "Parked", "Consumers"], rows),
    h("h2", {}, "The gateway's dependencies"),
    table(
      ["Dependency", "State"],
      Object.entries(dependencies).map(([name, state]) =>
        h("tr", {}, h("td", {}, name), h("td", { class: state === "SERVING" ? "ok" : "bad" }, state)),
      ),
    ),
    h("h2", {}, "Exception lists"),
    table(["List", "Open", "Oldest"], exceptions),
    h("h2", {}, "The last hour"),
    samples.length < 2
      ? h("p", {}, "Not enough samples yet (one a minute).")
      : h(
          "div",
          { class: "charts" },
          chart("Events received and longest wait (s)", samples, [
            ["events", (s) => s.events ?? 0, "#4a7fc1"],
            ["max lag s", (s) => s.maxLagSeconds ?? 0, "#d1495b"],
          ]),
          chart("Messages waiting", samples, [
            ["ready", (s) => Number(s.ready ?? 0), "#4a7fc1"],
            ["retrying", (s) => Number(s.retrying ?? 0), "#f5a623"],
            ["parked", (s) => Number(s.parked ?? 0), "#d1495b"],
          ]),
        ),
  );
  refresh = setTimeout(() => route().catch(failed), 15_000);
}

async function exceptionsView(params) {
  const kind = params.get("kind") ?? "";
  const older = params.get("olderThanMinutes") ?? "";
  const source = params.get("source") ?? "";
  const query = new URLSearchParams({ pageSize: "200" });
  if (kind) query.set("kind", `EXCEPTION_KIND_${kind}`);
  if (older) query.set("olderThan", `${Number(older) * 60}s`);
  if (source) query.set("sourceSystem", source);
  const { json } = await api(`/v1/operationalExceptions?${query}`);
  const kindSelect = h(
    "select",
    { id: "kind", name: "kind" },
    h("option", { value: "" }, "every kind"),
    exceptionKinds.map((k) => h("option", { value: k, selected: k === kind }, k)),
  );
  const olderInput = h("input", {
    id: "older",
    name: "olderThanMinutes",
    type: "number",
    min: 0,
    value: older,
  });
  const sourceInput = h("input", { id: "source", name: "source", value: source });
  const filters = h(
    "form",
    {
      class: "filters",
      onsubmit: (event) => {
        event.preventDefault();
        const next = new URLSearchParams();
        if (kindSelect.value) next.set("kind", kindSelect.value);
        if (olderInput.value) next.set("olderThanMinutes", olderInput.value);
        if (sourceInput.value) next.set("source", sourceInput.value);
        location.hash = `#/exceptions?${next}`;
      },
    },
    h("label", { for: "kind" }, "Kind", kindSelect),
    h("label", { for: "older" }, "Older than (minutes)", olderInput),
    h("label", { for: "source" }, "Source system", sourceInput),
    h("button", { type: "submit" }, "Filter"),
  );
  const rows = json.exceptions.map((e) => {
    const by = e.correlationId ? "correlation" : "order";
    const id = e.correlationId || e.orderId;
    return h(
      "tr",
      {},
      h("td", {}, age(e.since)),
      h("td", {}, e.kind.replace(/^EXCEPTION_KIND_/, "")),
      h("td", {}, e.subject),
      h("td", {}, e.reason),
      h("td", {}, e.sourceSystem ?? ""),
      h(
        "td",
        {},
        id ? h("a", { href: `#/trace?by=${by}&id=${encodeURIComponent(id)}` }, `Trace ${e.subject}`) : "",
      ),
    );
  });
  show(
    "Exceptions",
    filters,
    rows.length === 0
      ? h("p", {}, "No open exceptions match.")
      : table(["Age", "Kind", "Subject", "Reason", "Source", ""], rows),
  );
}

async function traceView(params) {
  const by = params.get("by") ?? "order";
  const id = params.get("id") ?? "";
  const bySelect = h(
    "select",
    { id: "by" },
    ["order", "customer", "correlation"].map((b) => h("option", { value: b, selected: b === by }, b)),
  );
  const idInput = h("input", { id: "trace-id", value: id, required: true });
  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: (event) => {
        event.preventDefault();
        location.hash = `#/trace?by=${bySelect.value}&id=${encodeURIComponent(idInput.value.trim())}`;
      },
    },
    h("label", { for: "by" }, "By", bySelect),
    h("label", { for: "trace-id" }, "Id", idInput),
    h("button", { type: "submit" }, "Show"),
  );
  if (!id) {
    show("Trace", form);
    return;
  }
  const param = { order: "orderId", customer: "customerId", correlation: "correlationId" }[by];
  const { json } = await api(`/v1/traces?${new URLSearchParams({ [param]: id })}`);
  const events = json.events ?? [];
  const first = events.length ? Date.parse(events[0].occurTime) : 0;
  const span = Math.max(1, ...events.map((e) => Date.parse(e.occurTime) - first));
  const rows = events.map((e) => {
    const offset = Date.parse(e.occurTime) - first;
    const wait = Date.parse(e.receiveTime) - Date.parse(e.occurTime);
    return h(
      "tr",
      {},
      h("td", { class: "num" }, `+${offset} ms`),
      h("td", {}, h("div", { class: "bar", style: `width:${Math.max(1, (offset / span) * 200)}px` })),
      h("td", {}, e.routingKey),
      h("td", {}, e.source),
      h("td", {}, e.aggregateId),
      h("td", { class: "num" }, `${wait} ms`),
    );
  });
  show(
    `Trace of ${by} ${id}`,
    form,
    events.length === 0
      ? h("p", {}, "Nothing recorded for it.")
      : table(["When", "", "Event", "From", "Aggregate", "Reached operations after"], rows),
    json.truncated ? h("p", {}, "More events than shown.") : undefined,
  );
}

async function parkedView() {
  const { json } = await api("/v1/parkedMessages");
  const boxes = [];
  const rows = json.messages.map(({ service, message: m }) => {
    const box = h("input", {
      type: "checkbox",
      "aria-label": `Select ${m.eventId}`,
      "data-service": service,
      "data-queue": m.queue,
      value: m.eventId,
    });
    boxes.push(box);
    return h(
      "tr",
      {},
      h("td", {}, box),
      h("td", {}, service),
      h("td", {}, h("code", {}, m.eventId)),
      h("td", {}, m.type),
      h("td", { class: "num" }, m.attempts ?? 0),
      h("td", {}, m.failureReason),
      h("td", {}, age(m.failedTime)),
      h(
        "td",
        {},
        h(
          "details",
          {},
          h("summary", {}, "Payload"),
          h("pre", {}, m.dataJson ? JSON.stringify(JSON.parse(m.dataJson), null, 2) : "(not decodable)"),
        ),
      ),
    );
  });
  const reason = h("input", { id: "reason", required: true, placeholder: "what was fixed" });
  const confirmBox = h("div", {
    class: "confirm",
    hidden: true,
    role: "alertdialog",
    "aria-label": "Confirm replay",
  });
  const ask = h(
    "button",
    {
      type: "button",
      onclick: () => {
        const chosen = boxes.filter((b) => b.checked);
        if (chosen.length === 0 || !reason.value.trim()) {
          say("Select messages and say what was fixed first.", true);
          return;
        }
        confirmBox.replaceChildren(
          h(
            "p",
            {},
            `Send ${chosen.length} parked message(s) back to their consumers? Reason: ${reason.value.trim()}`,
          ),
          h(
            "button",
            { type: "button", onclick: () => replay(chosen, reason.value.trim()) },
            "Confirm replay",
          ),
          " ",
          h("button", { type: "button", onclick: () => (confirmBox.hidden = true) }, "Cancel"),
        );
        confirmBox.hidden = false;
        confirmBox.querySelector("button").focus();
      },
    },
    "Replay selected",
  );
  const away = (json.services ?? []).filter((s) => s.error);
  show(
    "Parked messages",
    away.map((s) => h("p", { class: "bad" }, `${s.service} not answering: ${s.error}`)),
    rows.length === 0
      ? h("p", {}, "Nothing parked.")
      : [
          table(
            [
              "",
              "Service",
              "Event",
              "Type",
              "Attempts",
              "Reason",
              "Parked",
              "Decoded (personal fields emptied)",
            ],
            rows,
          ),
          h(
            "form",
            { class: "filters", onsubmit: (e) => e.preventDefault() },
            h("label", { for: "reason" }, "Reason", reason),
            ask,
          ),
          confirmBox,
        ],
  );
}

async function replay(chosen, reason) {
  const groups = new Map();
  for (const box of chosen) {
    const key = `${box.dataset.service}\u0000${box.dataset.queue}`;
    groups.set(key, [...(groups.get(key) ?? []), box.value]);
  }
  let replayed = 0;
  try {
    for (const [key, eventIds] of groups) {
      const [service, queue] = key.split("\u0000");
      const { json } = await api("/v1/parkedMessages:replay", {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": crypto.randomUUID() },
        body: JSON.stringify({ service, queue, eventIds, reason }),
      });
      replayed += json.replayed ?? 0;
    }
    await parkedView();
    say(`Replayed ${replayed} message(s).`);
  } catch (error) {
    failed(error);
  }
}

function failed(error) {
  if (error instanceof SignedOut) signIn(error.message);
  else say(error.message, true);
}

async function route() {
  clearTimeout(refresh);
  if (!sessionStorage.getItem(keyStore)) return signIn();
  nav.hidden = false;
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  const views = { "/exceptions": exceptionsView, "/trace": traceView, "/parked": parkedView };
  await (views[path] ?? overview)(params);
}

document.getElementById("sign-out").addEventListener("click", () => {
  sessionStorage.removeItem(keyStore);
  say("Signed out.");
  signIn();
});
window.addEventListener("hashchange", () => {
  say("");
  route().catch(failed);
});
route().catch(failed);
