// A SKU's demand chart as inline SVG: daily history, then the run's daily forecast with its 95 % band
// (mean ± 1.96 σ of the one-day-ahead error, as the run's HTML report draws it when it has no intervals).
import { html } from "htm/preact";
import { date, dec } from "./format.js";

const W = 640, H = 240, PAD = { l: 44, r: 12, t: 12, b: 28 };

export function ForecastChart({ history, decision, days = 60 }) {
  const past = history.slice(-days);
  const forecast = decision.forecast || [];
  const band = (decision.sigma_daily || 0) * 1.96;
  const points = past.length + forecast.length;
  if (!points) return html`<p>No demand history and no forecast to draw.</p>`;
  const top = Math.max(1, ...past.map((d) => d.quantity), ...forecast.map((f) => f + band));
  const x = (i) => PAD.l + (i / Math.max(1, points - 1)) * (W - PAD.l - PAD.r);
  const y = (v) => H - PAD.b - (Math.max(0, v) / top) * (H - PAD.t - PAD.b);
  const line = (values, offset) => values.map((v, i) => `${i ? "L" : "M"}${x(i + offset).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  const start = past.length;
  const upper = forecast.map((f, i) => `${x(start + i).toFixed(1)},${y(f + band).toFixed(1)}`);
  const lower = forecast.map((f, i) => `${x(start + i).toFixed(1)},${y(f - band).toFixed(1)}`).reverse();
  const ticks = [0, top / 2, top];
  const summary = `Daily demand of ${decision.sku}: ${past.length} days of history` +
    (past.length ? ` from ${date(past[0].day)} to ${date(past[past.length - 1].day)}` : "") +
    (forecast.length ? `, then a forecast of ${dec(decision.forecast_daily)} a day over ${forecast.length} days` +
      (band ? `, 95 % band ± ${dec(band)}` : "") : ", no forecast") + ".";
  return html`<figure class="chart">
    <svg viewBox=${`0 0 ${W} ${H}`} role="img" aria-label=${summary} width="100%">
      ${ticks.map((t) => html`<g><line x1=${PAD.l} x2=${W - PAD.r} y1=${y(t)} y2=${y(t)} class="grid" />
        <text x=${PAD.l - 6} y=${y(t) + 4} text-anchor="end">${dec(t)}</text></g>`)}
      ${forecast.length && band ? html`<polygon class="band" points=${[...upper, ...lower].join(" ")} />` : null}
      ${past.length ? html`<path class="history" d=${line(past.map((d) => d.quantity), 0)} />` : null}
      ${forecast.length ? html`<path class="forecast" d=${line(forecast, start)} />` : null}
      ${forecast.length && past.length ? html`<line class="today" x1=${x(start)} x2=${x(start)} y1=${PAD.t} y2=${H - PAD.b} />` : null}
      ${past.length ? html`<text x=${PAD.l} y=${H - 8}>${date(past[0].day)}</text>` : null}
      ${forecast.length ? html`<text x=${W - PAD.r} y=${H - 8} text-anchor="end">+${forecast.length} days</text>` : null}
    </svg>
    <figcaption>
      <span class="key key-history">History</span> <span class="key key-forecast">Forecast</span>
      ${band ? html`<span class="key key-band">95 % interval</span>` : null}
    </figcaption>
  </figure>`;
}
