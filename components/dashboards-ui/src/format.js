// Numbers, durations and times as people read them, in the dashboard's timezone.

const MINUTE = 60e3;
const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

function trim(number, digits) {
  return Number(number.toFixed(digits)).toLocaleString('en-US', { maximumFractionDigits: digits });
}

/** 4 h 5 min, 4 min 55 s, 12.3 s, 850 ms. */
export function humanDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '–';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs >= HOUR) {
    const hours = Math.floor(abs / HOUR);
    const minutes = Math.round((abs - hours * HOUR) / MINUTE);
    if (minutes === 60) return `${sign}${(hours + 1).toLocaleString('en-US')} h`;
    return `${sign}${hours.toLocaleString('en-US')} h${minutes ? ` ${minutes} min` : ''}`;
  }
  if (abs >= MINUTE) {
    const minutes = Math.floor(abs / MINUTE);
    const seconds = Math.round((abs - minutes * MINUTE) / 1000);
    if (seconds === 60) return `${sign}${minutes + 1} min`;
    return `${sign}${minutes} min${seconds ? ` ${seconds} s` : ''}`;
  }
  if (abs >= 1000) return `${sign}${trim(abs / 1000, 1)} s`;
  return `${sign}${trim(abs, 0)} ms`;
}

/** The unit of a column: the panel's override for it, else its name's suffix, else the panel's. */
export function columnUnit(panel, name) {
  for (const override of panel.fieldConfig?.overrides ?? []) {
    if (override.matcher?.id === 'byName' && override.matcher.options === name) {
      const unit = override.properties?.find((p) => p.id === 'unit');
      if (unit) return unit.value;
    }
  }
  if (/\(ms\)$/.test(name)) return 'ms';
  if (/\(h\)$/.test(name)) return 'h';
  if (/\(%\)$/.test(name)) return 'percent';
  return panel.fieldConfig?.defaults?.unit ?? 'short';
}

export function formatValue(value, unit) {
  if (value === null || value === undefined) return '–';
  if (typeof value !== 'number') return String(value);
  if (unit === 'h') return humanDuration(value * HOUR);
  if (unit === 'ms') return humanDuration(value);
  const digits = Math.abs(value) >= 100 || Number.isInteger(value) ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const number = trim(value, digits);
  return unit === 'percent' ? `${number}%` : number;
}

/** Axis tick labels: short, with the unit. */
export function formatTick(value, unit) {
  if (value === 0) return '0';
  if (unit === 'h') return value >= 1 || value === 0 ? `${trim(value, 1)} h` : `${trim(value * 60, 0)} min`;
  if (unit === 'ms') return value >= 60e3 ? humanDuration(value) : value >= 1000 ? `${trim(value / 1000, 1)} s` : `${trim(value, 0)} ms`;
  if (unit === 'percent') return `${trim(value, 1)}%`;
  return trim(value, 2);
}

// --- time, in a timezone ------------------------------------------------------------------------

const formatters = new Map();

function formatter(timeZone, options) {
  const key = `${timeZone}|${JSON.stringify(options)}`;
  if (!formatters.has(key)) formatters.set(key, new Intl.DateTimeFormat('en-US', { timeZone, ...options }));
  return formatters.get(key);
}

/** IANA name for Intl from Grafana's forms (`utc`, an IANA name). */
export function intlZone(tz) {
  return !tz || tz.toLowerCase() === 'utc' ? 'UTC' : tz;
}

/** Wall-clock parts of an instant in a timezone. */
function parts(ms, tz) {
  const out = {};
  for (const { type, value } of formatter(intlZone(tz), {
    year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric',
    second: 'numeric', hourCycle: 'h23',
  }).formatToParts(new Date(ms))) out[type] = Number(value);
  return out;
}

/** Offset of the timezone at an instant, in ms (local = UTC + offset). */
export function offsetAt(ms, tz) {
  const p = parts(ms, tz);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
}

/** The instant of local midnight of the calendar day (y, m 0-based, d) in tz. */
function localMidnight(y, m, d, tz) {
  const guess = Date.UTC(y, m, d);
  let instant = guess - offsetAt(guess, tz);
  instant = guess - offsetAt(instant, tz);
  return instant;
}

/** Starts of the calendar periods (day, week from Monday, month) covering [from, to] in tz. */
export function periodStarts(from, to, intervalS, tz) {
  const p = parts(from, tz);
  let y = p.year;
  let m = p.month - 1;
  let d = p.day;
  const months = intervalS >= 2592000;
  const weeks = !months && intervalS >= 604800;
  if (months) d = 1;
  if (weeks) d -= (new Date(Date.UTC(y, m, d)).getUTCDay() + 6) % 7;
  const starts = [];
  for (let guard = 0; guard < 1000; guard += 1) {
    const date = new Date(Date.UTC(y, m, d));
    const start = localMidnight(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), tz);
    if (start > to) break;
    starts.push(start);
    if (months) m += 1;
    else d += weeks ? 7 : 1;
  }
  return starts;
}

/** `YYYY-MM-DDTHH:mm` (a datetime-local input's value) of an instant in tz. */
export function wallClock(ms, tz) {
  const p = parts(ms, tz);
  const pad = (n) => String(n).padStart(2, '0');
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
}

/** The instant of a `YYYY-MM-DDTHH:mm` wall-clock time in tz. */
export function fromWallClock(text, tz) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(text);
  if (!match) return NaN;
  const [y, m, d, h, min] = match.slice(1).map(Number);
  const guess = Date.UTC(y, m - 1, d, h, min);
  const instant = guess - offsetAt(guess, tz);
  return guess - offsetAt(instant, tz);
}

export function formatDate(ms, tz, withYear = false) {
  return formatter(intlZone(tz), { month: 'short', day: 'numeric', weekday: 'short', ...(withYear ? { year: 'numeric' } : {}) }).format(new Date(ms));
}

export function formatTime(ms, tz) {
  return formatter(intlZone(tz), { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(ms));
}

export function formatDateTime(ms, tz) {
  return `${formatDate(ms, tz, true)} ${formatTime(ms, tz)}`;
}

export function isLocalMidnight(ms, tz) {
  const p = parts(ms, tz);
  return p.hour === 0 && p.minute === 0 && p.second === 0;
}

// Tick steps: round minutes, hours and days.
const STEPS = [MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR,
  6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY];

/** Tick positions at round times of the timezone, at most `count` of them, and their labels. */
export function timeTicks(from, to, tz, count = 8) {
  const span = to - from;
  const step = STEPS.find((s) => span / s <= count) ?? 30 * DAY;
  let ticks;
  if (step < DAY) {
    const offset = offsetAt(from, tz);
    ticks = [];
    for (let t = Math.ceil((from + offset) / step) * step - offset; t <= to; t += step) ticks.push(t);
  } else {
    const days = periodStarts(from, to, step >= 7 * DAY ? 604800 : 86400, tz).filter((t) => t >= from);
    const every = step >= 7 * DAY ? Math.round(step / (7 * DAY)) : Math.round(step / DAY);
    ticks = days.filter((_, i) => i % every === 0);
  }
  const multiDay = span > DAY || parts(from, tz).day !== parts(to, tz).day;
  const label = (t) => {
    if (step >= DAY) return formatDate(t, tz);
    if (multiDay && isLocalMidnight(t, tz)) return formatDate(t, tz);
    return multiDay && step >= 6 * HOUR ? `${formatDate(t, tz)} ${formatTime(t, tz)}` : formatTime(t, tz);
  };
  return ticks.map((value) => ({ value, label: label(value) }));
}
