// Sign-in. Offline: a role picker that asks the local stack's issuer (POST /_local/token). Deployed: the
// OIDC authorization code flow with PKCE against the configured issuer (Cognito's hosted UI).
import { config } from "./config.js";

const KEY = "orderflow.session";
const listeners = new Set();

export const ROLE_NAMES = {
  admin: "Customer service and buyer (admin)",
  warehouse: "Warehouse",
  customer: "Customer",
};

export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}

function save(value) {
  if (value) sessionStorage.setItem(KEY, JSON.stringify(value));
  else sessionStorage.removeItem(KEY);
  listeners.forEach((fn) => fn(value));
}

export function onSession(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function signOut() {
  save(null);
}

/** The strongest role a token's scopes grant, and the customer it acts for. */
export function describeToken(token, customerIdClaim) {
  const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  const scopes = String(claims.scope || claims.scp || "").split(/\s+/);
  const role = ["admin", "warehouse", "customer"].find((r) => scopes.includes(`orderflow/${r}`)) || null;
  return { role, customer_id: claims[customerIdClaim] || claims.customer_id || null, subject: claims.sub };
}

export async function signInLocally(role, customerId) {
  const body = { role };
  if (role === "customer") body.customer_id = customerId;
  const response = await fetch(`${config().api}/_local/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`The local issuer refused: ${response.status}`);
  const { access_token } = await response.json();
  save({ token: access_token, role, customer_id: role === "customer" ? customerId : null });
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function redirectUri() {
  return `${location.origin}${location.pathname}`;
}

export async function startOidcSignIn() {
  const cfg = config();
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem("orderflow.pkce", JSON.stringify({ verifier, state }));
  const query = new URLSearchParams({
    response_type: "code", client_id: cfg.client_id, redirect_uri: redirectUri(), scope: cfg.scopes,
    state, code_challenge: challenge, code_challenge_method: "S256",
  });
  location.assign(`${cfg.authorize_url}?${query}`);
}

/** After the hosted UI sends the user back with ?code=...: trade it for a token. */
export async function finishOidcSignIn() {
  const query = new URLSearchParams(location.search);
  const code = query.get("code");
  if (!code) return false;
  const cfg = config();
  const pkce = JSON.parse(sessionStorage.getItem("orderflow.pkce") || "{}");
  sessionStorage.removeItem("orderflow.pkce");
  history.replaceState(null, "", redirectUri() + location.hash);
  if (query.get("state") !== pkce.state) throw new Error("The sign-in answer did not match this browser's request.");
  const response = await fetch(cfg.token_url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code", code, client_id: cfg.client_id, redirect_uri: redirectUri(),
      code_verifier: pkce.verifier,
    }),
  });
  if (!response.ok) throw new Error(`The issuer refused the sign-in (${response.status}).`);
  const { access_token } = await response.json();
  const who = describeToken(access_token, cfg.customer_id_claim);
  if (!who.role) throw new Error("Your account has no Orderflow role (scope orderflow/admin, warehouse or customer).");
  save({ token: access_token, role: who.role, customer_id: who.customer_id });
  return true;
}
