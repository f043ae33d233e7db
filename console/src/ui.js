// Shared pieces: loading and error states, tables, status badges, the pager, a not-found page.
import { html } from "htm/preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { when, words } from "./format.js";

export { html };

/** Runs `load` when `deps` change; {data, error, loading, reload}. A stale answer never overwrites a newer one. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    Promise.resolve()
      .then(load)
      .then((data) => mine === generation.current && setState({ data, error: null, loading: false }))
      .catch((error) => mine === generation.current && setState({ data: null, error, loading: false }));
  }, deps);
  useEffect(run, [run]);
  return { ...state, reload: run };
}

/** An action a user starts (a button): {busy, error, done, start}. */
export function useAction() {
  const [state, setState] = useState({ busy: false, error: null, done: null });
  const start = async (fn, doneMessage) => {
    setState({ busy: true, error: null, done: null });
    try {
      const result = await fn();
      setState({ busy: false, error: null, done: doneMessage || null });
      return result;
    } catch (error) {
      setState({ busy: false, error, done: null });
      return undefined;
    }
  };
  return { ...state, start };
}

export const Loading = ({ what = "Loading" }) => html`<p class="loading" role="status" aria-live="polite">${what}…</p>`;

export function ErrorBox({ error, retry }) {
  if (!error) return null;
  return html`<div class="error" role="alert">
    <strong>${error.status === 403 ? "Not allowed" : "Something went wrong"}:</strong> ${error.message}
    ${retry && html` <button type="button" onClick=${retry}>Try again</button>`}
  </div>`;
}

export const Done = ({ message }) => (message ? html`<p class="done" role="status">${message}</p>` : null);

export const Status = ({ value }) => html`<span class=${`status status-${String(value || "").toLowerCase()}`}>${words(value)}</span>`;

export function NotFound({ what = "page" }) {
  return html`<section aria-labelledby="nf-title">
    <h1 id="nf-title" tabindex="-1">Not found</h1>
    <p>We could not find this ${what}. It may not exist, or it may not be yours to see.</p>
    <p><a href="#/">Back to the start</a></p>
  </section>`;
}

/** What a page of a loaded thing shows while loading, on error (404 = not found), or when there. */
export function Loaded({ state, what, children }) {
  if (state.loading && !state.data) return html`<${Loading} what=${`Loading ${what}`} />`;
  if (state.error?.status === 404) return html`<${NotFound} what=${what} />`;
  if (state.error) return html`<${ErrorBox} error=${state.error} retry=${state.reload} />`;
  return children(state.data);
}

/** Cursor paging: the API hands out next_cursor; earlier cursors are kept to go back. */
export function usePager() {
  const [stack, setStack] = useState([null]);
  const cursor = stack[stack.length - 1];
  return {
    cursor,
    page: stack.length,
    next: (nextCursor) => setStack((s) => [...s, nextCursor]),
    previous: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
    reset: () => setStack([null]),
  };
}

export function Pager({ pager, nextCursor, label }) {
  return html`<nav class="pager" aria-label=${`${label} pages`}>
    <button type="button" onClick=${pager.previous} disabled=${pager.page <= 1}>Previous page</button>
    <span aria-live="polite">Page ${pager.page}</span>
    <button type="button" onClick=${() => pager.next(nextCursor)} disabled=${!nextCursor}>Next page</button>
  </nav>`;
}

/** A table with its caption, in a box that scrolls sideways on its own when the table is wider than the screen
 * (a phone), so the page itself never does. The box is a named region a keyboard can reach to scroll it. */
export const Table = ({ caption, children }) => html`<div class="table-scroll" role="region" aria-label=${caption} tabindex="0">
  <table><caption>${caption}</caption>${children}</table>
</div>`;

export function Timeline({ entries, label = "Timeline" }) {
  if (!entries?.length) return html`<p>No history yet.</p>`;
  return html`<ol class="timeline" aria-label=${label}>
    ${entries.map((e) => html`<li>
      <${Status} value=${e.status} /> <time datetime=${e.at}>${when(e.at)}</time>
      ${e.by && html` <span class="by">by ${e.by}</span>`}${e.reason && html` — ${e.reason}`}
    </li>`)}
  </ol>`;
}

/** Focus the page heading after navigation, so keyboard and screen-reader users land on the new page. */
export function useFocusHeading(key) {
  useEffect(() => {
    const heading = document.querySelector("main h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
  }, [key]);
}
