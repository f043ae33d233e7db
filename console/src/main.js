// The console's shell: sign-in, the navigation of the signed-in role, and the hash routes.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ROLE_NAMES, finishOidcSignIn, onSession, session, signInLocally, signOut, startOidcSignIn } from "./auth.js";
import { config, loadConfig } from "./config.js";
import { PurchaseOrderPage, PurchaseOrders, RunPage, Runs, Stock, Suppliers } from "./pages/buying.js";
import { MyOrders, OrderPage, OrderSearch } from "./pages/orders.js";
import { Alerts, Kpis } from "./pages/overview.js";
import { PickList, ReturnLookup, ReturnPage, ShipmentPage } from "./pages/warehouse.js";
import "./style.css";
import { ErrorBox, NotFound, html, useFocusHeading } from "./ui.js";

const NAV = {
  admin: [["#/orders", "Orders"], ["#/runs", "Runs"], ["#/purchase-orders", "Purchase orders"], ["#/stock", "Stock"],
    ["#/suppliers", "Suppliers"], ["#/pick", "Pick list"], ["#/returns", "Returns"], ["#/alerts", "Alerts"], ["#/kpis", "KPIs"]],
  warehouse: [["#/pick", "Pick list"], ["#/returns", "Returns"], ["#/stock", "Stock"]],
  customer: [["#/my-orders", "My orders"]],
};
const HOME = { admin: "#/orders", warehouse: "#/pick", customer: "#/my-orders" };

/** [pattern, page, roles]: the first pattern matching the hash wins. */
const ROUTES = [
  [/^#\/orders$/, () => html`<${OrderSearch} />`, ["admin"]],
  [/^#\/my-orders$/, () => html`<${MyOrders} />`, ["customer"]],
  [/^#\/orders\/([^/]+)$/, ([id]) => html`<${OrderPage} orderId=${id} />`, ["admin", "customer"]],
  [/^#\/pick(?:\/([^/]+))?$/, ([id]) => html`<${PickList} locationId=${id} />`, ["admin", "warehouse"]],
  [/^#\/shipments\/([^/]+)$/, ([id]) => html`<${ShipmentPage} shipmentId=${id} />`, ["admin", "warehouse"]],
  [/^#\/returns$/, () => html`<${ReturnLookup} />`, ["admin", "warehouse"]],
  [/^#\/returns\/([^/]+)$/, ([id]) => html`<${ReturnPage} returnId=${id} />`, ["admin", "warehouse"]],
  [/^#\/runs$/, () => html`<${Runs} />`, ["admin"]],
  [/^#\/runs\/([^/]+)(?:\/([^/]+))?$/, ([id, key]) => html`<${RunPage} runId=${id} decisionKey=${key} />`, ["admin"]],
  [/^#\/purchase-orders$/, () => html`<${PurchaseOrders} />`, ["admin"]],
  [/^#\/purchase-orders\/([^/]+)$/, ([id]) => html`<${PurchaseOrderPage} poId=${id} />`, ["admin"]],
  [/^#\/stock(?:\/([^/]+))?$/, ([sku]) => html`<${Stock} key=${sku} sku=${sku} />`, ["admin", "warehouse"]],
  // The alerts' links (ConsoleUrl = this console's URL and "#"): docs/alerts.md.
  [/^#\/replenishment\/runs\/([^/]+)$/, ([id]) => html`<${RunPage} runId=${id} />`, ["admin"]],
  [/^#\/suppliers(?:\/([^/]+))?$/, ([id]) => html`<${Suppliers} supplierId=${id} />`, ["admin"]],
  [/^#\/alerts$/, () => html`<${Alerts} />`, ["admin"]],
  [/^#\/kpis$/, () => html`<${Kpis} />`, ["admin"]],
];

function route(hash, role) {
  for (const [pattern, page, roles] of ROUTES) {
    const found = pattern.exec(hash);
    if (found && roles.includes(role)) return page(found.slice(1).map((p) => (p === undefined ? p : decodeURIComponent(p))));
  }
  return html`<${NotFound} />`;
}

function Login() {
  const [role, setRole] = useState("admin");
  const [customer, setCustomer] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useFocusHeading("login");
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (config().auth === "local") await signInLocally(role, customer.trim());
      else await startOidcSignIn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<main id="main" class="login">
    <h1>Sign in to Orderflow</h1>
    <${ErrorBox} error=${error} />
    <form onSubmit=${submit} class="card">
      ${config().auth === "local" ? html`<fieldset>
        <legend>Offline stack: choose who you are</legend>
        ${Object.entries(ROLE_NAMES).map(([value, name]) => html`<label class="choice">
          <input type="radio" name="role" value=${value} checked=${role === value} onChange=${() => setRole(value)} /> ${name}</label>`)}
        ${role === "customer" && html`<label>Customer ID <input name="customer" required value=${customer}
          onInput=${(e) => setCustomer(e.currentTarget.value)} autocomplete="off" /></label>`}
        <button type="submit" disabled=${busy}>Sign in</button>
        <p class="muted">The local stack's issuer signs a token for the role (POST /_local/token); there is no password offline.</p>
      </fieldset>` : html`<p>You will sign in on your organisation's sign-in page.</p>
        <button type="submit" disabled=${busy}>Sign in</button>`}
    </form>
  </main>`;
}

function App() {
  const [who, setWho] = useState(session());
  const [hash, setHash] = useState(location.hash || "");
  useEffect(() => onSession(setWho), []);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  useEffect(() => {
    // location.hash, not the state: a route opened since the last render (a link, the back button) wins
    if (who && (!location.hash || location.hash === "#/")) location.hash = HOME[who.role];
  }, [who, hash]);
  useFocusHeading(`${who?.role}${hash}`);
  if (!who) return html`<${Login} />`;
  const current = hash.split("/").slice(0, 2).join("/");
  return html`<div class="shell">
    <header>
      <span class="brand">Orderflow</span>
      <nav aria-label="Main">
        <ul>${NAV[who.role].map(([href, label]) => html`<li><a href=${href} aria-current=${current === href ? "page" : undefined}>${label}</a></li>`)}</ul>
      </nav>
      <span class="who">${ROLE_NAMES[who.role]}${who.customer_id ? ` — ${who.customer_id}` : ""}</span>
      <button type="button" onClick=${() => { signOut(); location.hash = ""; }}>Sign out</button>
    </header>
    <main id="main">${route(hash, who.role)}</main>
  </div>`;
}

// The skip link must not change the hash (the hash is the route): it moves the focus to the content.
document.addEventListener("click", (e) => {
  if (e.target.closest?.("a.skip")) {
    e.preventDefault();
    const main = document.getElementById("main");
    main?.setAttribute("tabindex", "-1");
    main?.focus();
  }
});

async function boot() {
  await loadConfig();
  const root = document.getElementById("app");
  try {
    if (config().auth === "oidc") await finishOidcSignIn();
  } catch (err) {
    render(html`<main id="main"><h1>Sign-in failed</h1><${ErrorBox} error=${err} /><p><a href="./">Try again</a></p></main>`, root);
    return;
  }
  root.textContent = "";
  render(html`<${App} />`, root);
}

boot();
