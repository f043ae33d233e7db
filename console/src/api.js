// The HTTP API with the user's bearer token. Errors arrive as {"error": {code, message, details}} (or API
// Gateway's own {"message"}); both become an ApiError whose message a person can read.
import { session, signOut } from "./auth.js";
import { config } from "./config.js";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export async function api(method, path, { body, params, headers } = {}) {
  const query = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "")) : null;
  const url = `${config().api}${path}${query && query.toString() ? `?${query}` : ""}`;
  const sent = { method, headers: { Accept: "application/json", ...headers } };
  const token = session()?.token;
  if (token) sent.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    sent.headers["Content-Type"] = "application/json";
    sent.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, sent);
  } catch (err) {
    throw new ApiError(0, "NETWORK", `The API could not be reached (${err.message}). Check your connection and try again.`);
  }
  const text = await response.text();
  let payload = null;
  try {
    payload = text ? JSON.parse(text) : null;
  } catch {
    payload = null;
  }
  if (response.status === 401) {
    signOut();
    throw new ApiError(401, "UNAUTHORIZED", "Your session has ended. Please sign in again.");
  }
  if (!response.ok) {
    const error = payload?.error || {};
    const message = error.message || payload?.message || `The API answered ${response.status}.`;
    throw new ApiError(response.status, error.code || String(response.status), message, error.details);
  }
  return payload;
}

/** A key that makes a retry of the same action change nothing twice (the API's Idempotency-Key). */
export function idempotencyKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}
