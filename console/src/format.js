// Numbers, money and dates in the user's locale (Intl), never hand-formatted.
const locale = navigator.language || "en";
const numbers = new Intl.NumberFormat(locale);
const decimals = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
const dates = new Intl.DateTimeFormat(locale, { dateStyle: "medium" });
const times = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });

export const num = (n) => (n === null || n === undefined || n === "" ? "—" : numbers.format(Number(n)));
export const dec = (n) => (n === null || n === undefined || n === "" ? "—" : decimals.format(Number(n)));
export function money(amount, currency = "USD") {
  if (amount === null || amount === undefined || amount === "") return "—";
  try {
    return new Intl.NumberFormat(locale, { style: "currency", currency }).format(Number(amount));
  } catch {
    return decimals.format(Number(amount));
  }
}
export function date(value) {
  if (!value) return "—";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : dates.format(d);
}
export function when(value) {
  if (!value) return "—";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : times.format(d);
}
/** A status as words: PARTIALLY_SHIPPED -> "Partially shipped". */
export function words(status) {
  if (!status) return "—";
  const text = String(status).replace(/_/g, " ").toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}
