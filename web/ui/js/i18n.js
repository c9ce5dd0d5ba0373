// Message catalogues and locale formatting. Every text the page shows
// comes from i18n/<lang>.json through t(); numbers and dates are formatted
// for the chosen locale; units are metric unless the user picks imperial.

export const LANGS = ['en', 'es'];
const LANG_KEY = 'centinela.lang';
const UNITS_KEY = 'centinela.units';

let lang = 'en';
let cat = {};
let units = 'metric';
const fmtCache = new Map();

// pickLang returns the remembered language, else the browser's first
// supported one, else English.
export function pickLang() {
  const saved = localStorage.getItem(LANG_KEY);
  if (LANGS.includes(saved)) return saved;
  for (const l of navigator.languages || [navigator.language || 'en']) {
    const base = String(l).toLowerCase().split('-')[0];
    if (LANGS.includes(base)) return base;
  }
  return 'en';
}

export async function load(l, remember) {
  const res = await fetch(`i18n/${l}.json`, { cache: 'no-cache' });
  if (!res.ok) throw new Error(`catalogue ${l}: ${res.status}`);
  cat = await res.json();
  lang = l;
  fmtCache.clear();
  if (remember) localStorage.setItem(LANG_KEY, l);
  document.documentElement.lang = l;
}

export function currentLang() { return lang; }

// t returns the message key with {name} parameters filled in. A missing key
// shows as the key itself (the catalogue test keeps this from happening).
export function t(key, params) {
  let s = cat[key];
  if (s === undefined) s = key;
  // A parameter the event did not carry is left out, not shown as {name}.
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] !== undefined && params[k] !== null ? params[k] : '')).replace(/ {2,}/g, ' ').trim();
  return s;
}

export function has(key) { return Object.prototype.hasOwnProperty.call(cat, key); }

// apply fills every element of root with data-i18n* attributes.
export function apply(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
}

function nf(min, max) {
  const k = `${min}/${max}`;
  let f = fmtCache.get(k);
  if (!f) {
    f = new Intl.NumberFormat(lang, { minimumFractionDigits: min, maximumFractionDigits: max });
    fmtCache.set(k, f);
  }
  return f;
}

// num formats a number for the locale; "—" for none.
export function num(v, digits = 0, minDigits = digits) {
  if (v === null || v === undefined || Number.isNaN(v)) return t('value.none');
  return nf(minDigits, digits).format(v);
}

export function setUnits(u) {
  units = u === 'imperial' ? 'imperial' : 'metric';
  localStorage.setItem(UNITS_KEY, units);
}
export function savedUnits() { return localStorage.getItem(UNITS_KEY) === 'imperial' ? 'imperial' : 'metric'; }
export function currentUnits() { return units; }

// alt formats metres as an altitude in the chosen units.
export function alt(m, digits = 0) {
  if (m === null || m === undefined) return t('value.none');
  return units === 'imperial' ? t('unit.ft', { v: num(m * 3.28084, digits) }) : t('unit.m', { v: num(m, digits) });
}
// speed formats m/s in the chosen units.
export function speed(ms, digits = 1) {
  if (ms === null || ms === undefined) return t('value.none');
  return units === 'imperial' ? t('unit.mph', { v: num(ms * 2.23694, digits) }) : t('unit.ms', { v: num(ms, digits) });
}
// dist formats metres as a distance (km or mi past 1,000 m / 0.2 mi).
export function dist(m) {
  if (m === null || m === undefined) return t('value.none');
  if (units === 'imperial') {
    const mi = m / 1609.344;
    return mi >= 0.2 ? t('unit.mi', { v: num(mi, 2) }) : t('unit.ft', { v: num(m * 3.28084, 0) });
  }
  return m >= 1000 ? t('unit.km', { v: num(m / 1000, 2) }) : t('unit.m', { v: num(m, 0) });
}
export function duration(s) {
  if (s === null || s === undefined || Number.isNaN(s)) return t('value.none');
  s = Math.round(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (h > 0) return t('unit.hm', { h: num(h), m: num(m) });
  if (m > 0) return t('unit.ms_time', { m: num(m), s: num(sec) });
  return t('unit.s', { v: num(sec) });
}
export function pct(v, digits = 0) {
  if (v === null || v === undefined || v < 0 || Number.isNaN(v)) return t('value.none');
  return t('unit.pct', { v: num(v, digits) });
}

// time formats a Date (or RFC 3339 string) as local time of the browser,
// or of a time zone.
export function time(d, opts = {}) {
  if (!d) return t('value.none');
  if (!(d instanceof Date)) d = new Date(d);
  const k = 'dt' + JSON.stringify(opts);
  let f = fmtCache.get(k);
  if (!f) {
    f = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', second: '2-digit', ...opts });
    fmtCache.set(k, f);
  }
  return f.format(d);
}
export function dateTime(d) {
  return time(d, { year: 'numeric', month: 'short', day: 'numeric' });
}
