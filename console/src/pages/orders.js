// Customer service: find orders, open one, cancel it or some of its units, start a return. Customers see
// the same order page read-only, and only their own orders.
import { useState } from "preact/hooks";
import { api, idempotencyKey } from "../api.js";
import { session } from "../auth.js";
import { date, money, num, when } from "../format.js";
import { Done, ErrorBox, Loaded, Loading, Pager, Status, Table, Timeline, html, useAction, useLoad, usePager } from "../ui.js";

export const ORDER_STATUSES = ["PENDING", "VALIDATED", "CREDIT_APPROVED", "RESERVED", "PARTIALLY_RESERVED", "BACKORDERED",
  "PARTIALLY_SHIPPED", "SHIPPED", "DELIVERED", "RETURN_REQUESTED", "RETURNED", "CANCELLED", "REJECTED", "FAILED"];
const PAGE = 25;

function OrdersTable({ orders, caption }) {
  if (!orders.length) return html`<p>No orders match.</p>`;
  return html`<${Table} caption=${caption}>
    <thead><tr><th scope="col">Order</th><th scope="col">Placed</th><th scope="col">Status</th>
      <th scope="col" class="n">Items</th><th scope="col" class="n">Total</th></tr></thead>
    <tbody>${orders.map((o) => html`<tr>
      <td><a href=${`#/orders/${o.order_id}`}>${o.order_id}</a></td>
      <td><time datetime=${o.created_at}>${when(o.created_at)}</time></td>
      <td><${Status} value=${o.status} /></td>
      <td class="n">${num(o.lines.reduce((t, l) => t + l.quantity, 0))}</td>
      <td class="n">${money(o.total)}</td>
    </tr>`)}</tbody>
  <//>`;
}

export function OrderSearch() {
  const [form, setForm] = useState({ customer: "", status: "", from: "", to: "" });
  const [query, setQuery] = useState(null);
  const pager = usePager();
  const state = useLoad(
    // The API narrows by the days placed (its index) and by status (on each page it reads, so a page may hold
    // fewer than PAGE orders while there are more: the pager follows next_cursor).
    () => (query ? api("GET", "/orders", { params: {
      customer_id: query.customer, limit: PAGE, cursor: pager.cursor,
      status: query.status || undefined, placed_from: query.from || undefined, placed_to: query.to || undefined,
    } }) : null),
    [query, pager.cursor],
  );
  const [orderId, setOrderId] = useState("");
  const openOrder = (e) => {
    e.preventDefault();
    location.hash = `#/orders/${encodeURIComponent(orderId.trim())}`;
  };
  const set = (name) => (e) => setForm({ ...form, [name]: e.currentTarget.value });
  const submit = (e) => {
    e.preventDefault();
    pager.reset();
    setQuery({ ...form, customer: form.customer.trim() });
  };
  return html`<section aria-labelledby="search-title">
    <h1 id="search-title">Orders</h1>
    <form class="filters" onSubmit=${submit} role="search" aria-label="Find orders">
      <label>Customer ID <input name="customer" required value=${form.customer} onInput=${set("customer")} autocomplete="off" /></label>
      <label>Status <select name="status" value=${form.status} onChange=${set("status")}>
        <option value="">Any status</option>
        ${ORDER_STATUSES.map((s) => html`<option value=${s}>${s.replace(/_/g, " ").toLowerCase()}</option>`)}
      </select></label>
      <label>Placed from <input type="date" name="from" value=${form.from} onInput=${set("from")} /></label>
      <label>to <input type="date" name="to" value=${form.to} onInput=${set("to")} /></label>
      <button type="submit">Search</button>
    </form>
    <form class="filters" onSubmit=${openOrder} aria-label="Open an order">
      <label>Order ID <input name="order" value=${orderId} onInput=${(e) => setOrderId(e.currentTarget.value)} autocomplete="off" required /></label>
      <button type="submit">Open</button>
    </form>
    ${!query && html`<p>Enter a customer's ID to list their orders, newest first, or open an order by its ID.</p>`}
    ${query && state.loading && html`<${Loading} what="Finding orders" />`}
    <${ErrorBox} error=${state.error} retry=${state.reload} />
    ${query && state.data && html`
      <${OrdersTable} orders=${state.data.orders} caption=${`Orders of ${query.customer}, page ${pager.page}`} />
      <${Pager} pager=${pager} nextCursor=${state.data.next_cursor} label="Orders" />`}
  </section>`;
}

export function MyOrders() {
  const me = session();
  const pager = usePager();
  const state = useLoad(() => {
    if (!me.customer_id) throw new Error("Your sign-in names no customer: ask for your account to be linked to one.");
    return api("GET", "/orders", { params: { customer_id: me.customer_id, limit: PAGE, cursor: pager.cursor } });
  }, [me.customer_id, pager.cursor]);
  return html`<section aria-labelledby="mine-title">
    <h1 id="mine-title">My orders</h1>
    <${Loaded} state=${state} what="your orders">${(data) => html`
      <${OrdersTable} orders=${data.orders} caption=${`Your orders (${me.customer_id}), page ${pager.page}`} />
      <${Pager} pager=${pager} nextCursor=${data.next_cursor} label="My orders" />`}
    <//>
  </section>`;
}

const open = (line) => line.quantity - line.shipped - line.cancelled;
const returnable = (line, order) => line.delivered - (order.returned?.[line.sku] || 0);

function LinesTable({ order }) {
  return html`<${Table} caption="Lines">
    <thead><tr><th scope="col">SKU</th><th scope="col">Product</th><th scope="col" class="n">Ordered</th>
      <th scope="col" class="n">Allocated</th><th scope="col" class="n">Backordered</th><th scope="col" class="n">Shipped</th>
      <th scope="col" class="n">Delivered</th><th scope="col" class="n">Cancelled</th><th scope="col" class="n">Unit price</th></tr></thead>
    <tbody>${order.lines.map((l) => html`<tr>
      <td>${l.sku}</td><td>${l.name || ""}</td><td class="n">${num(l.quantity)}</td><td class="n">${num(l.allocated)}</td>
      <td class="n">${num(l.backordered)}</td><td class="n">${num(l.shipped)}</td><td class="n">${num(l.delivered)}</td>
      <td class="n">${num(l.cancelled)}</td><td class="n">${money(l.unit_price)}</td>
    </tr>`)}</tbody>
  <//>`;
}

function ShipmentsTable({ shipments, staff }) {
  if (!shipments?.length) return html`<p>No shipments yet.</p>`;
  return html`<${Table} caption="Shipments of this order">
    <thead><tr><th scope="col">Shipment</th><th scope="col">From</th><th scope="col">Status</th><th scope="col">Items</th>
      <th scope="col">Carrier and tracking</th></tr></thead>
    <tbody>${shipments.map((s) => html`<tr>
      <td>${staff ? html`<a href=${`#/shipments/${s.shipment_id}`}>${s.shipment_id}</a>` : s.shipment_id}</td>
      <td>${s.location_id}</td><td><${Status} value=${s.status} /></td>
      <td>${(s.shipped || s.lines).map((l) => `${num(l.quantity)} × ${l.sku}`).join(", ")}</td>
      <td>${[s.carrier, s.tracking].filter(Boolean).join(" ") || "—"}</td>
    </tr>`)}</tbody>
  <//>`;
}

/** Units per SKU typed into a form of number inputs, one per line. */
function QuantitiesForm({ order, max, legend, submitLabel, onSubmit, action, extra, reasonLabel }) {
  const [quantities, setQuantities] = useState({});
  const [reason, setReason] = useState("");
  const lines = order.lines.filter((l) => max(l) > 0);
  if (!lines.length) return null;
  const submit = (e) => {
    e.preventDefault();
    const chosen = Object.entries(quantities).filter(([, q]) => q > 0).map(([sku, quantity]) => ({ sku, quantity }));
    if (chosen.length) onSubmit(chosen, reason.trim());
  };
  return html`<form class="card" onSubmit=${submit}>
    <fieldset><legend>${legend}</legend>
      ${lines.map((l) => html`<label>${l.sku}${l.name ? ` (${l.name})` : ""}: units, up to ${num(max(l))}
        <input type="number" min="0" max=${max(l)} step="1" value=${quantities[l.sku] || 0}
          onInput=${(e) => setQuantities({ ...quantities, [l.sku]: Number(e.currentTarget.value) })} /></label>`)}
      <label>${reasonLabel} <input value=${reason} onInput=${(e) => setReason(e.currentTarget.value)} maxlength="200" required=${!!extra} /></label>
      <button type="submit" disabled=${action.busy}>${submitLabel}</button>
    </fieldset>
  </form>`;
}

export function OrderPage({ orderId }) {
  const staff = session()?.role !== "customer";
  const state = useLoad(() => api("GET", `/orders/${encodeURIComponent(orderId)}`), [orderId]);
  const action = useAction();
  const act = async (fn, message) => {
    if ((await action.start(fn, message)) !== undefined) state.reload();
  };
  const cancelAll = () => act(() => api("POST", `/orders/${orderId}/cancel`, { body: { reason: "cancelled by customer service" } }),
    "The order is cancelled.");
  const cancelLines = (lines, reason) => act(() => api("POST", `/orders/${orderId}/cancel`, {
    body: { lines, reason: reason || "cancelled by customer service" }, headers: { "Idempotency-Key": idempotencyKey() },
  }), `Cancelled ${lines.map((l) => `${l.quantity} × ${l.sku}`).join(", ")}.`);
  const startReturn = (lines, reason) => act(() => api("POST", `/orders/${orderId}/returns`, {
    body: { lines: lines.map((l) => ({ ...l, reason })) }, headers: { "Idempotency-Key": idempotencyKey() },
  }), "The return is approved; the warehouse will receive it.");
  return html`<${Loaded} state=${state} what="order">${(order) => html`<section aria-labelledby="order-title">
    <h1 id="order-title">Order ${order.order_id}</h1>
    <dl class="facts">
      <div><dt>Status</dt><dd><${Status} value=${order.status} /></dd></div>
      <div><dt>Customer</dt><dd>${order.customer_id}</dd></div>
      <div><dt>Placed</dt><dd>${when(order.created_at)}</dd></div>
      <div><dt>Total</dt><dd>${money(order.total)}</dd></div>
      <div><dt>Ship to</dt><dd>${[order.shipping_address?.name, order.shipping_address?.city, order.shipping_address?.country].filter(Boolean).join(", ")}</dd></div>
    </dl>
    <${ErrorBox} error=${action.error} />
    <${Done} message=${action.done} />
    <${LinesTable} order=${order} />
    ${staff && !["CANCELLED", "REJECTED", "FAILED", "SHIPPED", "DELIVERED"].includes(order.status) && html`
      <div class="actions">
        <button type="button" class="danger" disabled=${action.busy}
          onClick=${() => confirm(`Cancel the whole order ${order.order_id}?`) && cancelAll()}>Cancel the whole order</button>
      </div>
      <${QuantitiesForm} key=${order.version} order=${order} max=${open} legend="Cancel some units" submitLabel="Cancel these units"
        reasonLabel="Reason (optional)" onSubmit=${cancelLines} action=${action} />`}
    <h2>Shipments</h2>
    <${ShipmentsTable} shipments=${order.shipments} staff=${staff} />
    <h2>Returns</h2>
    ${order.returns?.length ? html`<ul>${order.returns.map((r) => html`<li>
      ${staff ? html`<a href=${`#/returns/${r.return_id}`}>${r.return_id}</a>` : r.return_id} <${Status} value=${r.status} />
      refund ${money(r.refund_amount)}</li>`)}</ul>` : html`<p>No returns.</p>`}
    ${staff && html`<${QuantitiesForm} key=${order.version} order=${order} max=${(l) => returnable(l, order)} legend="Start a return"
      submitLabel="Start the return" reasonLabel="Reason" extra=${true} onSubmit=${startReturn} action=${action} />`}
    <h2>Timeline</h2>
    <${Timeline} entries=${order.timeline} label="Order timeline" />
    ${order.deadline && html`<p class="muted">Deadline to act on it: ${date(order.deadline)}</p>`}
  </section>`}<//>`;
}
