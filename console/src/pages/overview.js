// Operations at a glance (admin): what the alerts told (GET /alerts, docs/alerts.md) and the live KPIs
// (GET /kpis, docs/kpis.md). Offline there is no e-mail or chat: this page is where an alert shows.
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { dec, num, when } from "../format.js";
import { Loaded, Pager, Table, html, useLoad, usePager } from "../ui.js";
import { LocationSelect, useLocations } from "./warehouse.js";

const DAY = 86_400_000;
const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
const pct = (rate) => (rate === null || rate === undefined ? "—" : `${dec(rate * 100)} %`);

/** The console page an alert is about: its own link when the stack has a ConsoleUrl, else one from its subject. */
function alertHref(alert) {
  if (alert.link) return alert.link;
  const [kind, id] = alert.subject.split(/:(.*)/s);
  if (kind.startsWith("po-")) return `#/purchase-orders/${encodeURIComponent(id)}`;
  if (kind === "stock-low") return `#/stock/${encodeURIComponent(id.split("@")[0])}`;
  if (kind === "order-failed") return `#/orders/${encodeURIComponent(id)}`;
  if (kind === "run-failed") return `#/runs/${encodeURIComponent(id)}`;
  return null;
}

export function Alerts() {
  const [since, setSince] = useState(isoDay(Date.now() - 7 * DAY)); // one call reads at most the last 7 days
  const pager = usePager();
  const state = useLoad(() => api("GET", "/alerts", { params: { since: pager.cursor || `${since}T00:00:00Z`, limit: 50 } }),
    [since, pager.cursor]);
  return html`<section aria-labelledby="alerts-title">
    <h1 id="alerts-title">Alerts</h1>
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <label>Since <input type="date" value=${since} required onChange=${(e) => { pager.reset(); setSince(e.currentTarget.value); }} /></label>
    </form>
    <${Loaded} state=${state} what="alerts">${(data) => html`${data.alerts.length ? html`<${Table} caption=${`Alerts since ${since}, oldest first, page ${pager.page}`}>
      <thead><tr><th scope="col">When</th><th scope="col">Alert</th><th scope="col">What happened</th><th scope="col">What to do</th></tr></thead>
      <tbody>${data.alerts.map((a) => {
        const href = alertHref(a);
        return html`<tr><td>${when(a.at)}</td><td>${href ? html`<a href=${href}>${a.title}</a>` : a.title}</td>
          <td class="reason">${a.what}</td><td class="reason">${a.action}</td></tr>`;
      })}</tbody>
    <//>` : html`<p>No alerts since ${since}.</p>`}
    <${Pager} pager=${pager} nextCursor=${data.alerts.length === 50 ? data.next_since : null} label="Alerts" />`}<//>
  </section>`;
}

function Fact({ name, children }) {
  return html`<div><dt>${name}</dt><dd>${children}</dd></div>`;
}

export function Kpis() {
  const locations = useLocations();
  const [range, setRange] = useState({ from: isoDay(Date.now() - 6 * DAY), to: isoDay(Date.now()), location: "" });
  const state = useLoad(() => api("GET", "/kpis", { params: { from: range.from, to: range.to, location_id: range.location } }), [range]);
  const set = (name) => (e) => setRange({ ...range, [name]: e.currentTarget.value });
  return html`<section aria-labelledby="kpis-title">
    <h1 id="kpis-title">KPIs</h1>
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <label>From <input type="date" value=${range.from} required onChange=${set("from")} /></label>
      <label>to <input type="date" value=${range.to} required onChange=${set("to")} /></label>
      <${LocationSelect} label="Stock-outs at" locations=${[{ location_id: "", name: "Every location" }, ...(locations.data || [])]}
        value=${range.location} onChange=${(location) => setRange({ ...range, location })} />
    </form>
    <${Loaded} state=${state} what="KPIs">${(k) => html`
      <h2>Orders (the whole shop's)</h2>
      <dl class="facts">
        <${Fact} name="Fill rate: orders">${pct(k.fill_rate.orders)}<//>
        <${Fact} name="lines">${pct(k.fill_rate.lines)}<//>
        <${Fact} name="units">${pct(k.fill_rate.units)}<//>
        <${Fact} name="Shipped on time">${pct(k.on_time_shipment_rate)}<//>
        <${Fact} name="Orders shipped">${num(k.orders_shipped)}<//>
        <${Fact} name="Units shipped">${num(k.units_shipped)}<//>
        <${Fact} name="First shipment short">${num(k.partial_shipments.orders_partially_shipped)}<//>
        <${Fact} name="Units cancelled in part">${num(k.part_cancels.units)}<//>
      </dl>
      <h2>Backorders</h2>
      <dl class="facts">
        <${Fact} name="Opened">${num(k.backorders.opened)}<//>
        <${Fact} name="Filled">${num(k.backorders.filled)}<//>
        <${Fact} name="Dropped">${num(k.backorders.dropped)}<//>
        <${Fact} name="Open now">${num(k.backorders.open_now)}<//>
        <${Fact} name="Hours to close (mean)">${dec(k.backorders.average_hours_to_close)}<//>
      </dl>
      <h2>Stock${k.location_id ? ` at ${k.location_id}` : ""}</h2>
      <dl class="facts">
        <${Fact} name="Stock-out rate">${pct(k.stock_out_rate)}<//>
        <${Fact} name="Out-of-stock SKU-days">${num(k.stock_out_sku_days)} of ${num(k.sku_days)}<//>
        <${Fact} name="On hand">${num(k.on_hand)}<//>
        <${Fact} name="Days of cover">${dec(k.days_of_cover)}<//>
        <${Fact} name="Inventory turns">${dec(k.inventory_turns)}<//>
        <${Fact} name="Forecast error (WAPE)">${pct(k.forecast_error?.wape)}<//>
      </dl>
      <h2>Suppliers</h2>
      ${Object.keys(k.suppliers).length ? html`<${Table} caption="Purchase orders closed in these days, per supplier">
        <thead><tr><th scope="col">Supplier</th><th scope="col" class="n">Closed</th><th scope="col" class="n">On time</th><th scope="col" class="n">Fill rate</th></tr></thead>
        <tbody>${Object.entries(k.suppliers).map(([id, s]) => html`<tr><td><a href=${`#/suppliers/${encodeURIComponent(id)}`}>${id}</a></td>
          <td class="n">${num(s.purchase_orders_closed)}</td><td class="n">${pct(s.on_time_rate)}</td><td class="n">${pct(s.fill_rate)}</td></tr>`)}</tbody>
      <//>` : html`<p>No purchase order closed in these days.</p>`}`}<//>
  </section>`;
}
