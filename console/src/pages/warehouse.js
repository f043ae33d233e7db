// Warehouse: a location's pick list, a shipment's pick, pack, ship (all or part) and deliver, returns
// received, and stock levels.
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { session } from "../auth.js";
import { money, num, when, words } from "../format.js";
import { Done, ErrorBox, Loaded, Loading, Pager, Status, Table, Timeline, html, useAction, useLoad, usePager } from "../ui.js";

const SHIPMENT_STATUSES = ["RELEASED", "PICKED", "PACKED", "SHIPPED", "DELIVERED", "CANCELLED"];

export function useLocations() {
  return useLoad(() => api("GET", "/locations").then((r) => r.locations.filter((l) => l.active)), []);
}

export function LocationSelect({ locations, value, onChange, label = "Location" }) {
  return html`<label>${label} <select value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
    ${(locations || []).map((l) => html`<option value=${l.location_id}>${l.name} (${l.location_id})</option>`)}
  </select></label>`;
}

/** An order's ID: a link for customer service (admin), who can open orders; plain for the warehouse, who cannot. */
const OrderRef = ({ orderId }) => (session()?.role === "admin" ? html`<a href=${`#/orders/${orderId}`}>${orderId}</a>` : orderId);

export function PickList({ locationId }) {
  const locations = useLocations();
  const [status, setStatus] = useState("RELEASED");
  const pager = usePager();
  const chosen = locationId || locations.data?.[0]?.location_id;
  const state = useLoad(() => (chosen ? api("GET", `/locations/${encodeURIComponent(chosen)}/shipments`,
    { params: { status, limit: 25, cursor: pager.cursor } }) : null), [chosen, status, pager.cursor]);
  const choose = (id) => {
    pager.reset();
    location.hash = `#/pick/${encodeURIComponent(id)}`;
  };
  return html`<section aria-labelledby="pick-title">
    <h1 id="pick-title">Pick list</h1>
    <${Loaded} state=${locations} what="locations">${(list) => html`<form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <${LocationSelect} locations=${list} value=${chosen} onChange=${choose} />
      <label>Status <select value=${status} onChange=${(e) => { pager.reset(); setStatus(e.currentTarget.value); }}>
        ${SHIPMENT_STATUSES.map((s) => html`<option value=${s}>${words(s)}</option>`)}
      </select></label>
    </form>`}<//>
    ${state.loading && html`<${Loading} what="Loading shipments" />`}
    <${ErrorBox} error=${state.error} retry=${state.reload} />
    ${state.data && html`${state.data.shipments.length ? html`<${Table} caption=${`Shipments ${status.toLowerCase()} at ${chosen}, page ${pager.page}`}>
      <thead><tr><th scope="col">Shipment</th><th scope="col">Order</th><th scope="col">Released</th>
        <th scope="col">Items</th><th scope="col">Ship to</th></tr></thead>
      <tbody>${state.data.shipments.map((s) => html`<tr>
        <td><a href=${`#/shipments/${s.shipment_id}`}>${s.shipment_id}</a></td><td>${s.order_id}</td>
        <td>${when(s.created_at)}</td><td>${s.lines.map((l) => `${num(l.quantity)} × ${l.sku}`).join(", ")}</td>
        <td>${[s.address?.name, s.address?.postal_code, s.address?.city].filter(Boolean).join(", ")}</td>
      </tr>`)}</tbody><//>` : html`<p>Nothing to pick here.</p>`}
      <${Pager} pager=${pager} nextCursor=${state.data.next_cursor} label="Pick list" />`}
  </section>`;
}

function ShipForm({ shipment, action, onShip }) {
  const [carrier, setCarrier] = useState("");
  const [tracking, setTracking] = useState("");
  const [found, setFound] = useState(Object.fromEntries(shipment.lines.map((l) => [l.sku, l.quantity])));
  const submit = (e) => {
    e.preventDefault();
    const partial = shipment.lines.some((l) => found[l.sku] < l.quantity);
    const body = { carrier: carrier.trim() || undefined, tracking: tracking.trim() || undefined };
    if (partial) body.lines = shipment.lines.filter((l) => found[l.sku] > 0).map((l) => ({ sku: l.sku, quantity: found[l.sku] }));
    onShip(body, partial);
  };
  return html`<form class="card" onSubmit=${submit}>
    <fieldset><legend>Ship</legend>
      <label>Carrier <input value=${carrier} onInput=${(e) => setCarrier(e.currentTarget.value)} maxlength="100" /></label>
      <label>Tracking number <input value=${tracking} onInput=${(e) => setTracking(e.currentTarget.value)} maxlength="100" /></label>
      ${shipment.lines.map((l) => html`<label>${l.sku}: units in the parcel (of ${num(l.quantity)})
        <input type="number" min="0" max=${l.quantity} step="1" value=${found[l.sku]}
          onInput=${(e) => setFound({ ...found, [l.sku]: Number(e.currentTarget.value) })} /></label>`)}
      <p class="muted">Fewer units than released ships part of it; the rest is sourced again, from here or elsewhere.</p>
      <button type="submit" disabled=${action.busy}>Ship</button>
    </fieldset>
  </form>`;
}

export function ShipmentPage({ shipmentId }) {
  const state = useLoad(() => api("GET", `/shipments/${encodeURIComponent(shipmentId)}`), [shipmentId]);
  const action = useAction();
  const step = async (verb, body, message) => {
    if ((await action.start(() => api("POST", `/shipments/${shipmentId}/${verb}`, { body }), message)) !== undefined) state.reload();
  };
  return html`<${Loaded} state=${state} what="shipment">${(s) => html`<section aria-labelledby="shp-title">
    <h1 id="shp-title">Shipment ${s.shipment_id}</h1>
    <dl class="facts">
      <div><dt>Status</dt><dd><${Status} value=${s.status} /></dd></div>
      <div><dt>Order</dt><dd><${OrderRef} orderId=${s.order_id} /></dd></div>
      <div><dt>From</dt><dd>${s.location_id}</dd></div>
      <div><dt>Ship to</dt><dd>${[s.address?.name, s.address?.line1, s.address?.postal_code, s.address?.city, s.address?.country].filter(Boolean).join(", ")}</dd></div>
      ${s.carrier && html`<div><dt>Carrier</dt><dd>${s.carrier} ${s.tracking || ""}</dd></div>`}
    </dl>
    <${ErrorBox} error=${action.error} />
    <${Done} message=${action.done} />
    <${Table} caption="Items">
      <thead><tr><th scope="col">SKU</th><th scope="col" class="n">Released</th><th scope="col" class="n">Shipped</th></tr></thead>
      <tbody>${s.lines.map((l) => html`<tr><td>${l.sku}</td><td class="n">${num(l.quantity)}</td>
        <td class="n">${s.shipped ? num(s.shipped.find((x) => x.sku === l.sku)?.quantity || 0) : "—"}</td></tr>`)}</tbody>
    <//>
    <div class="actions">
      ${s.status === "RELEASED" && html`<button type="button" disabled=${action.busy} onClick=${() => step("pick", undefined, "Picked.")}>Pick</button>`}
      ${s.status === "PICKED" && html`<button type="button" disabled=${action.busy} onClick=${() => step("pack", undefined, "Packed.")}>Pack</button>`}
      ${s.status === "SHIPPED" && html`<button type="button" disabled=${action.busy} onClick=${() => step("deliver", undefined, "Delivered.")}>Mark delivered</button>`}
    </div>
    ${["RELEASED", "PICKED", "PACKED"].includes(s.status) && html`<${ShipForm} shipment=${s} action=${action}
      onShip=${(body, partial) => step("ship", body, partial ? "Shipped in part; the rest is sourced again." : "Shipped.")} />`}
    <h2>Timeline</h2>
    <${Timeline} entries=${s.timeline} label="Shipment timeline" />
  </section>`}<//>`;
}

export function ReturnLookup() {
  const [id, setId] = useState("");
  return html`<section aria-labelledby="ret-title">
    <h1 id="ret-title">Receive a return</h1>
    <form class="filters" onSubmit=${(e) => { e.preventDefault(); if (id.trim()) location.hash = `#/returns/${encodeURIComponent(id.trim())}`; }}>
      <label>Return ID (on the parcel's label) <input value=${id} onInput=${(e) => setId(e.currentTarget.value)} required /></label>
      <button type="submit">Open</button>
    </form>
  </section>`;
}

export function ReturnPage({ returnId }) {
  const state = useLoad(() => api("GET", `/returns/${encodeURIComponent(returnId)}`), [returnId]);
  const locations = useLocations();
  const action = useAction();
  const [counts, setCounts] = useState({});
  const [where, setWhere] = useState("main");
  const receive = async (ret, e) => {
    e.preventDefault();
    const lines = [];
    for (const l of ret.lines) {
      for (const condition of ["resellable", "damaged"]) {
        const quantity = counts[`${l.sku}/${condition}`] ?? (condition === "resellable" ? l.quantity : 0);
        if (quantity > 0) lines.push({ sku: l.sku, quantity, condition });
      }
    }
    if ((await action.start(() => api("POST", `/returns/${returnId}/receive`, { body: { lines, location_id: where } }),
      "Received: resellable units are back in stock and the refund is on its way.")) !== undefined) state.reload();
  };
  return html`<${Loaded} state=${state} what="return">${(ret) => html`<section aria-labelledby="ret-title">
    <h1 id="ret-title">Return ${ret.return_id}</h1>
    <dl class="facts">
      <div><dt>Status</dt><dd><${Status} value=${ret.status} /></dd></div>
      <div><dt>Order</dt><dd><${OrderRef} orderId=${ret.order_id} /></dd></div>
      <div><dt>Refund</dt><dd>${money(ret.refund_amount)}</dd></div>
    </dl>
    <${ErrorBox} error=${action.error} />
    <${Done} message=${action.done} />
    <${Table} caption="Returned items">
      <thead><tr><th scope="col">SKU</th><th scope="col" class="n">Units</th><th scope="col">Reason</th>
        <th scope="col" class="n">Restocked</th><th scope="col" class="n">Scrapped</th></tr></thead>
      <tbody>${ret.lines.map((l) => html`<tr><td>${l.sku}</td><td class="n">${num(l.quantity)}</td><td>${l.reason}</td>
        <td class="n">${num(ret.restocked?.[l.sku] ?? 0)}</td><td class="n">${num(ret.scrapped?.[l.sku] ?? 0)}</td></tr>`)}</tbody>
    <//>
    ${ret.status === "APPROVED" && html`<form class="card" onSubmit=${(e) => receive(ret, e)}>
      <fieldset><legend>What came back</legend>
        ${ret.lines.map((l) => ["resellable", "damaged"].map((condition) => html`<label>${l.sku}: ${condition} units
          <input type="number" min="0" max=${l.quantity} step="1"
            value=${counts[`${l.sku}/${condition}`] ?? (condition === "resellable" ? l.quantity : 0)}
            onInput=${(e) => setCounts({ ...counts, [`${l.sku}/${condition}`]: Number(e.currentTarget.value) })} /></label>`))}
        <${LocationSelect} locations=${locations.data} value=${where} onChange=${setWhere} label="Received at" />
        <button type="submit" disabled=${action.busy}>Receive</button>
      </fieldset>
    </form>`}
    <h2>Timeline</h2>
    <${Timeline} entries=${ret.timeline} label="Return timeline" />
  </section>`}<//>`;
}
