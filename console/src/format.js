// Numbers, money and dates in the user's locale (Intl), never hand-formatted.
import { config } from "./config.js";

const locale = navigator.language || "en";
const numbers = new Intl.NumberFormat(locale);
const decimals = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
const amounts = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const dates = new Intl.DateTimeFormat(locale, { dateStyle: "medium" });
const times = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });

export const num = (n) => (n === null || n === undefined || n === "" ? "—" : numbers.format(Number(n)));
export const dec = (n) => (n === null || n === undefined || n === "" ? "—" : decimals.format(Number(n)));
/** Money as the API has it: an amount with no currency (each deployment has one; config.json may name it). */
export function money(amount) {
  if (amount === null || amount === undefined || amount === "") return "—";
  const currency = config().currency;
  if (currency) {
    try {
      return new Intl.NumberFormat(locale, { style: "currency", currency }).format(Number(amount));
    } catch {
      // an unknown currency code: the amount alone
    }
  }
  return amounts.format(Number(amount));
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
