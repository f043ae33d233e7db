// Where the API is and how to sign in. Deployed, config.json beside index.html says so (written when the
// console is published: docs/console.md); offline there is none, and the console asks the local stack it
// is served by (same origin) for tokens.
let loaded = null;

export async function loadConfig() {
  try {
    const response = await fetch("./config.json", { cache: "no-store" });
    if (response.ok) {
      const found = await response.json();
      loaded = { auth: "oidc", customer_id_claim: "custom:customer_id", ...found, api: (found.api || "").replace(/\/$/, "") };
      return loaded;
    }
  } catch {
    // no config.json: offline
  }
  loaded = { auth: "local", api: "" };
  return loaded;
}

export function config() {
  return loaded || { auth: "local", api: "" };
}
