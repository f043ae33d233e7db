// Buyer: replenishment runs and why each SKU was (not) ordered, beside its forecast; purchase orders with
// their timeline; stock by location with low stock highlighted; suppliers.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.js";
import { session } from "../auth.js";
import { ForecastChart } from "../chart.js";
import { date, dec, money, num, when, words } from "../format.js";
import { Done, ErrorBox, Loaded, Loading, Pager, Status, Table, Timeline, html, useAction, useLoad, usePager } from "../ui.js";

const keyOf = (d) => `${d.sku}@${d.location_id}`;

export function Runs() {
  const state = useLoad(() => api("GET", "/replenishment/runs", { params: { limit: 50 } }), []);
  const action = useAction();
  const start = async () => {
    const run = await action.start(() => api("POST", "/replenishment/runs", { body: { note: "started from the console" } }));
    if (run) location.hash = `#/runs/${run.run_id}`;
  };
  return html`<section aria-labelledby="runs-title">
    <h1 id="runs-title">Replenishment runs</h1>
    <div class="actions"><button type="button" onClick=${start} disabled=${action.busy}>Start a run now</button></div>
    <${ErrorBox} error=${action.error} />
    <${Loaded} state=${state} what="runs">${(data) => (data.runs.length ? html`<${Table} caption="The latest runs, newest first">
      <thead><tr><th scope="col">Run</th><th scope="col">Started</th><th scope="col">Status</th><th scope="col" class="n">SKUs</th>
        <th scope="col" class="n">Ordered</th><th scope="col" class="n">Units</th><th scope="col">Note</th></tr></thead>
      <tbody>${data.runs.map((r) => html`<tr><td><a href=${`#/runs/${r.run_id}`}>${r.run_id}</a></td><td>${when(r.started_at)}</td>
        <td><${Status} value=${r.status} /></td><td class="n">${num(r.counts?.skus)}</td><td class="n">${num(r.counts?.ordered)}</td>
        <td class="n">${num(r.counts?.units_ordered)}</td><td>${r.note || ""}</td></tr>`)}</tbody>
    <//>` : html`<p>No runs yet.</p>`)}<//>
  </section>`;
}

function DecisionDetail({ decision }) {
  const history = useLoad(() => api("GET", `/demand/${encodeURIComponent(decision.sku)}`,
    { params: { location_id: decision.location_id === "main" ? undefined : decision.location_id } }), [keyOf(decision)]);
  const facts = [
    ["Outcome", words(decision.outcome)], ["Quantity ordered", num(decision.quantity)],
    ["Forecast method", decision.method || "—"], ["Demand class", decision.demand_class || "—"],
    ["Forecast a day", dec(decision.forecast_daily)], ["Inventory position", num(decision.inventory_position)],
    ["Safety stock", dec(decision.safety_stock)], ["Reorder point", dec(decision.reorder_point)],
    ["Order up to", dec(decision.order_up_to)], ["Economic order quantity", dec(decision.eoq)],
    ["Lead time (days)", `${dec(decision.lead_time_days)}${decision.lead_time_source ? ` (${decision.lead_time_source})` : ""}`],
    ["Unit cost", money(decision.unit_cost)],
  ];
  return html`<section class="decision" aria-labelledby="decision-title">
    <h2 id="decision-title">${decision.sku} at ${decision.location_id}</h2>
    <div class="side-by-side">
      ${history.loading ? html`<${Loading} what="Loading demand history" />` : history.error
        ? html`<${ErrorBox} error=${history.error} retry=${history.reload} />`
        : html`<${ForecastChart} history=${history.data.history} decision=${decision} />`}
      <div>
        <p class="why"><strong>Why:</strong> ${decision.reason}</p>
        ${decision.supplier_choice && html`<p><strong>Supplier:</strong> ${decision.supplier_choice}</p>`}
        <dl class="facts">${facts.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>
        ${decision.po_id && html`<p><a href=${`#/purchase-orders/${decision.po_id}`}>Purchase order ${decision.po_id}</a></p>`}
        ${decision.orders?.length > 1 && html`<ul>${decision.orders.map((o) => html`<li>
          <a href=${`#/purchase-orders/${o.po_id}`}>${o.po_id}</a>: ${num(o.quantity)} from ${o.supplier_id} — ${o.reason}</li>`)}</ul>`}
      </div>
    </div>
  </section>`;
}

export function RunPage({ runId, decisionKey }) {
  const pager = usePager();
  const [outcome, setOutcome] = useState("");
  const state = useLoad(() => api("GET", `/replenishment/runs/${encodeURIComponent(runId)}`, { params: { limit: 50, cursor: pager.cursor } }),
    [runId, pager.cursor]);
  const running = state.data?.status === "RUNNING";
  useEffect(() => {  // a run in progress is read again every 2 s until it ends
    if (!running) return undefined;
    const timer = setTimeout(state.reload, 2000);
    return () => clearTimeout(timer);
  }, [running, state.data]);
  return html`<${Loaded} state=${state} what="run">${(run) => {
    const decisions = run.decisions.filter((d) => !outcome || d.outcome === outcome);
    const chosen = decisionKey && run.decisions.find((d) => keyOf(d) === decisionKey);
    return html`<section aria-labelledby="run-title">
      <h1 id="run-title">Run ${run.run_id}</h1>
      <dl class="facts">
        <div><dt>Status</dt><dd><${Status} value=${run.status} /></dd></div>
        <div><dt>Started</dt><dd>${when(run.started_at)}</dd></div>
        <div><dt>Finished</dt><dd>${when(run.finished_at)}</dd></div>
        ${Object.entries(run.counts || {}).map(([k, v]) => html`<div><dt>${k === "skus" ? "SKUs" : words(k)}</dt><dd>${num(v)}</dd></div>`)}
      </dl>
      ${run.status === "RUNNING" && html`<p role="status">Still running: this page refreshes by itself.</p>`}
      ${run.error && html`<p class="error" role="alert">${run.error}</p>`}
      ${chosen && html`<${DecisionDetail} decision=${chosen} />`}
      <form class="filters" onSubmit=${(e) => e.preventDefault()}>
        <label>Outcome on this page <select value=${outcome} onChange=${(e) => setOutcome(e.currentTarget.value)}>
          <option value="">Any outcome</option>
          ${["ordered", "not_needed", "already_ordered", "not_due", "skipped"].map((o) => html`<option value=${o}>${words(o)}</option>`)}
        </select></label>
      </form>
      <${Table} caption=${`Decisions, page ${pager.page}${outcome ? `: ${decisions.length} of its ${run.decisions.length} ${words(outcome).toLowerCase()}` : ""}`}>
        <thead><tr><th scope="col">SKU</th><th scope="col">Location</th><th scope="col">Outcome</th>
          <th scope="col" class="n">Quantity</th><th scope="col">Purchase order</th><th scope="col">Why</th></tr></thead>
        <tbody>${decisions.map((d) => html`<tr class=${chosen && keyOf(d) === keyOf(chosen) ? "selected" : ""}>
          <td><a href=${`#/runs/${run.run_id}/${encodeURIComponent(keyOf(d))}`} aria-label=${`Why ${d.sku} at ${d.location_id}`}>${d.sku}</a></td>
          <td>${d.location_id}</td><td><${Status} value=${d.outcome} /></td><td class="n">${num(d.quantity)}</td>
          <td>${d.po_id ? html`<a href=${`#/purchase-orders/${d.po_id}`}>${d.po_id}</a>` : "—"}</td>
          <td class="reason">${d.reason}</td></tr>`)}</tbody>
      <//>
      <${Pager} pager=${pager} nextCursor=${run.next_cursor} label="Decisions" />
    </section>`;
  }}<//>`;
}

const PO_STATUSES = ["DRAFT", "PENDING_APPROVAL", "APPROVED", "SENT", "ACKNOWLEDGED", "PARTIALLY_CONFIRMED", "SHIPPED",
  "PARTIALLY_RECEIVED", "RECEIVED", "REJECTED", "CANCELLED"];

export function PurchaseOrders() {
  const [status, setStatus] = useState("");
  const pager = usePager();
  const state = useLoad(() => api("GET", "/purchase-orders", { params: { status, limit: 25, cursor: pager.cursor } }),
    [status, pager.cursor]);
  return html`<section aria-labelledby="pos-title">
    <h1 id="pos-title">Purchase orders</h1>
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <label>Status <select value=${status} onChange=${(e) => { pager.reset(); setStatus(e.currentTarget.value); }}>
        <option value="">Open (draft to partly received)</option>${PO_STATUSES.map((s) => html`<option value=${s}>${words(s)}</option>`)}
      </select></label>
    </form>
    <${Loaded} state=${state} what="purchase orders">${(data) => html`${data.purchase_orders.length ? html`<${Table} caption=${`Purchase orders, page ${pager.page}`}>
      <thead><tr><th scope="col">Purchase order</th><th scope="col">Supplier</th><th scope="col">Status</th>
        <th scope="col">Deliver to</th><th scope="col">Expected</th><th scope="col" class="n">Total</th></tr></thead>
      <tbody>${data.purchase_orders.map((po) => html`<tr><td><a href=${`#/purchase-orders/${po.po_id}`}>${po.po_id}</a></td>
        <td>${po.supplier_id}</td><td><${Status} value=${po.status} /></td><td>${po.deliver_to}</td>
        <td>${date(po.expected_by)}</td><td class="n">${money(po.total)}</td></tr>`)}</tbody>
    <//>` : html`<p>No purchase orders.</p>`}
    <${Pager} pager=${pager} nextCursor=${data.next_cursor} label="Purchase orders" />`}<//>
  </section>`;
}

/** A DRAFT or PENDING_APPROVAL purchase order's quantities, before it is sent: PATCH /purchase-orders/{id} with
 * every line (the API replaces them all; on_order moves by the difference). 0 takes a line off. */
function ChangeQuantities({ po, onSubmit, busy }) {
  const [quantities, setQuantities] = useState(Object.fromEntries(po.lines.map((l) => [l.sku, l.quantity])));
  const submit = (e) => {
    e.preventDefault();
    onSubmit(po.lines.filter((l) => quantities[l.sku] > 0).map((l) => ({ sku: l.sku, quantity: quantities[l.sku], unit_cost: l.unit_cost })));
  };
  return html`<form class="card" onSubmit=${submit}>
    <fieldset><legend>Change quantities</legend>
      ${po.lines.map((l) => html`<label>${l.sku}: units <input type="number" min="0" step="1" required value=${quantities[l.sku]}
        onInput=${(e) => setQuantities({ ...quantities, [l.sku]: Number(e.currentTarget.value) })} /></label>`)}
      <p class="muted">0 takes the line off. The purchase order keeps its status: a waiting one still needs the approval.</p>
      <button type="submit" disabled=${busy}>Save the quantities</button>
    </fieldset>
  </form>`;
}

export function PurchaseOrderPage({ poId }) {
  const state = useLoad(() => api("GET", `/purchase-orders/${encodeURIComponent(poId)}`), [poId]);
  const action = useAction();
  const act = async (verb, message) => {
    if ((await action.start(() => api("POST", `/purchase-orders/${poId}/${verb}`, { body: verb === "cancel" ? { reason: "cancelled by the buyer" } : undefined }), message)) !== undefined) state.reload();
  };
  const change = async (lines) => {
    if ((await action.start(() => api("PATCH", `/purchase-orders/${poId}`, { body: { lines } }),
      `Saved: ${lines.map((l) => `${num(l.quantity)} × ${l.sku}`).join(", ")}.`)) !== undefined) state.reload();
  };
  return html`<${Loaded} state=${state} what="purchase order">${(po) => html`<section aria-labelledby="po-title">
    <h1 id="po-title">Purchase order ${po.po_id}</h1>
    <dl class="facts">
      <div><dt>Status</dt><dd><${Status} value=${po.status} /></dd></div>
      <div><dt>Supplier</dt><dd><a href=${`#/suppliers/${po.supplier_id}`}>${po.supplier_id}</a></dd></div>
      <div><dt>Deliver to</dt><dd>${po.deliver_to}</dd></div>
      <div><dt>Expected by</dt><dd>${date(po.expected_by)}</dd></div>
      <div><dt>Total</dt><dd>${money(po.total)}</dd></div>
      <div><dt>Decided by</dt><dd>${po.run_id ? html`<a href=${`#/runs/${po.run_id}`}>run ${po.run_id}</a>` : `hand (${po.created_by || "?"})`}</dd></div>
    </dl>
    <${ErrorBox} error=${action.error} />
    <${Done} message=${action.done} />
    <div class="actions">
      ${po.status === "PENDING_APPROVAL" && html`<button type="button" disabled=${action.busy} onClick=${() => act("approve", "Approved.")}>Approve</button>`}
      ${["DRAFT", "PENDING_APPROVAL", "APPROVED", "SENT"].includes(po.status) && html`<button type="button" class="danger" disabled=${action.busy}
        onClick=${() => confirm(`Cancel purchase order ${po.po_id}?`) && act("cancel", "Cancelled.")}>Cancel</button>`}
    </div>
    <${Table} caption="Lines">
      <thead><tr><th scope="col">SKU</th><th scope="col" class="n">Ordered</th><th scope="col" class="n">Confirmed</th>
        <th scope="col" class="n">Received</th><th scope="col" class="n">Unit cost</th></tr></thead>
      <tbody>${po.lines.map((l) => html`<tr><td>${l.sku}</td><td class="n">${num(l.quantity)}</td><td class="n">${num(l.confirmed ?? l.quantity)}</td>
        <td class="n">${num(l.received)}</td><td class="n">${money(l.unit_cost)}</td></tr>`)}</tbody>
    <//>
    ${["DRAFT", "PENDING_APPROVAL"].includes(po.status) && html`<${ChangeQuantities} key=${po.version} po=${po} onSubmit=${change} busy=${action.busy} />`}
    <h2>Timeline</h2>
    <${Timeline} entries=${po.timeline} label="Purchase order timeline" />
  </section>`}<//>`;
}

/** Goods that arrived outside a purchase order: POST /stock/{sku}/adjustments with a positive quantity, which the
 * warehouse and admins may do (counting stock down is admin's, through the API). */
function ReceiveStock({ onDone }) {
  const locations = useLoad(() => api("GET", "/locations").then((r) => r.locations.filter((l) => l.active)), []);
  const [form, setForm] = useState({ sku: "", quantity: 1, location: "main" });
  const action = useAction();
  const set = (name) => (e) => setForm({ ...form, [name]: e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    const sku = form.sku.trim();
    const done = await action.start(() => api("POST", `/stock/${encodeURIComponent(sku)}/adjustments`,
      { body: { quantity: Number(form.quantity), reason: "receipt", location_id: form.location } }),
    `Received ${num(form.quantity)} × ${sku} at ${form.location}.`);
    if (done !== undefined) onDone(sku);
  };
  return html`<form class="card" onSubmit=${submit}>
    <fieldset><legend>Receive stock</legend>
      <label>SKU <input value=${form.sku} onInput=${set("sku")} required /></label>
      <label>Units <input type="number" min="1" step="1" value=${form.quantity} onInput=${set("quantity")} required /></label>
      <label>At <select value=${form.location} onChange=${set("location")}>
        ${(locations.data || [{ location_id: "main", name: "Main warehouse" }]).map((l) => html`<option value=${l.location_id}>${l.name} (${l.location_id})</option>`)}
      </select></label>
      <button type="submit" disabled=${action.busy}>Receive</button>
    </fieldset>
    <${ErrorBox} error=${action.error} />
    <${Done} message=${action.done} />
  </form>`;
}

/** SKUs to show stock for: those the latest run decided, plus any looked up by hand. */
export function Stock({ sku: asked }) {
  const [extra, setExtra] = useState(asked ? [asked] : []);
  const [sku, setSku] = useState("");
  const [page, setPage] = useState(0);
  const PAGE = 20;
  const buyer = session()?.role === "admin";
  const state = useLoad(async () => {
    const runs = buyer ? await api("GET", "/replenishment/runs", { params: { limit: 1 } }) : { runs: [] };
    const latest = runs.runs[0] ? await api("GET", `/replenishment/runs/${runs.runs[0].run_id}`, { params: { limit: 1000 } }) : { decisions: [] };
    const reorder = {};
    for (const d of latest.decisions) reorder[`${d.sku}@${d.location_id}`] = d.reorder_point;
    const skus = [...new Set([...extra, ...latest.decisions.map((d) => d.sku)])];
    const shown = skus.slice(page * PAGE, (page + 1) * PAGE);
    // An unknown SKU (a typo) is said so on its row; any other failure is the page's error, with Try again.
    const levels = await Promise.all(shown.map((s) => api("GET", `/stock/${encodeURIComponent(s)}`).catch((err) => {
      if (err.status === 404) return { sku: s, unknown: true, locations: [] };
      throw err;
    })));
    return { levels, reorder, total: skus.length };
  }, [extra, page]);
  const low = (level, reorder) => level.available <= 0 || (reorder !== null && reorder !== undefined && level.available + level.on_order <= reorder);
  return html`<section aria-labelledby="stock-title">
    <h1 id="stock-title">Stock by location</h1>
    <form class="filters" onSubmit=${(e) => { e.preventDefault(); if (sku.trim()) { setExtra([sku.trim(), ...extra]); setPage(0); setSku(""); } }}>
      <label>Look up a SKU <input value=${sku} onInput=${(e) => setSku(e.currentTarget.value)} /></label>
      <button type="submit">Show</button>
    </form>
    ${session()?.role !== "customer" && html`<${ReceiveStock} onDone=${(sku) => { setExtra([sku, ...extra.filter((s) => s !== sku)]); setPage(0); }} />`}
    <p class="muted">Low stock (highlighted): nothing available, or available plus on order at or below the latest run's reorder point.</p>
    <${Loaded} state=${state} what="stock">${(data) => (!data.total ? html`<p>Look up a SKU to see its stock at each location.</p>` : html`<${Table} caption=${`Stock of the SKUs looked up${buyer ? " and the latest run's" : ""}, page ${page + 1} of ${Math.max(1, Math.ceil(data.total / PAGE))}`}>
      <thead><tr><th scope="col">SKU</th><th scope="col">Location</th><th scope="col" class="n">On hand</th><th scope="col" class="n">Reserved</th>
        <th scope="col" class="n">Available</th><th scope="col" class="n">On order</th><th scope="col" class="n">Backordered</th>
        <th scope="col" class="n">Reorder point</th></tr></thead>
      <tbody>${data.levels.flatMap((s) => (s.unknown ? [html`<tr><td>${s.sku}</td><td colspan="7">No product has this SKU.</td></tr>`]
        : (s.locations.length ? s.locations : [{ ...s, location_id: "—" }]).map((lv) => {
        const reorder = data.reorder[`${s.sku}@${lv.location_id}`];
        const isLow = low(lv, reorder);
        return html`<tr class=${isLow ? "low" : ""}><td>${s.sku}</td><td>${lv.location_id}</td><td class="n">${num(lv.on_hand)}</td>
          <td class="n">${num(lv.reserved)}</td><td class="n">${num(lv.available)}${isLow ? html` <span class="badge">Low</span>` : ""}</td>
          <td class="n">${num(lv.on_order)}</td><td class="n">${num(lv.backordered)}</td><td class="n">${dec(reorder)}</td></tr>`;
      })))}</tbody>
    <//>
    <nav class="pager" aria-label="Stock pages">
      <button type="button" disabled=${page === 0} onClick=${() => setPage(page - 1)}>Previous page</button>
      <span aria-live="polite">Page ${page + 1}</span>
      <button type="button" disabled=${(page + 1) * PAGE >= data.total} onClick=${() => setPage(page + 1)}>Next page</button>
    </nav>`)}<//>
  </section>`;
}

export function Suppliers({ supplierId }) {
  const [id, setId] = useState("");
  const known = useLoad(() => api("GET", "/purchase-orders", { params: { limit: 100 } })
    .then((r) => [...new Set(r.purchase_orders.map((po) => po.supplier_id))].sort()), []);
  const chosen = useLoad(() => (supplierId ? api("GET", `/suppliers/${encodeURIComponent(supplierId)}`) : null), [supplierId]);
  return html`<section aria-labelledby="sup-title">
    <h1 id="sup-title">Suppliers</h1>
    <form class="filters" onSubmit=${(e) => { e.preventDefault(); if (id.trim()) location.hash = `#/suppliers/${encodeURIComponent(id.trim())}`; }}>
      <label>Supplier ID <input value=${id} onInput=${(e) => setId(e.currentTarget.value)} required /></label>
      <button type="submit">Open</button>
    </form>
    ${supplierId && html`<${Loaded} state=${chosen} what="supplier">${(s) => s && html`<div class="card">
      <h2>${s.name} (${s.supplier_id})</h2>
      <dl class="facts">
        <div><dt>Active</dt><dd>${s.active ? "Yes" : "No"}</dd></div>
        <div><dt>Capacity a cycle</dt><dd>${s.capacity_per_cycle ? num(s.capacity_per_cycle) : "Unlimited"}</dd></div>
        <div><dt>Approval above</dt><dd>${s.approval_threshold ? money(s.approval_threshold) : "The stack's default"}</dd></div>
        <div><dt>Order queue</dt><dd class="wrap">${s.queue_url || "—"}</dd></div>
      </dl></div>`}<//>`}
    <h2>Suppliers with recent purchase orders</h2>
    <${Loaded} state=${known} what="suppliers">${(ids) => (ids.length ? html`<ul>${ids.map((s) => html`<li><a href=${`#/suppliers/${s}`}>${s}</a></li>`)}</ul>`
      : html`<p>None yet.</p>`)}<//>
  </section>`;
}
