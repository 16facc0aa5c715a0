// The built-in dashboard pages: render a generated Grafana dashboard (the same JSON Grafana
// provisions) with Chart.js. Panel and variable queries run on the server, by dashboard uid and
// panel id: the browser never sends SQL, and the server limits every query to the viewer's
// organizations. The address holds the whole view (range, timezone, variables), and what the
// controls show is always what the panels were asked for.
import {
  BarController, BarElement, CategoryScale, Chart, Filler, Legend, LinearScale, LineController,
  LineElement, PointElement, Tooltip,
} from 'chart.js';
import {
  DAY, columnUnit, formatDate, formatDateTime, formatTick, formatValue, fromWallClock, intlZone,
  isLocalMidnight, periodStarts, timeTicks, wallClock,
} from './format.js';
import { downloadCsv, toCsv } from './csv.js';

Chart.register(BarController, BarElement, CategoryScale, Filler, Legend, LinearScale, LineController,
  LineElement, PointElement, Tooltip);

const PRESETS = [
  ['now-15m', 'Last 15 minutes'], ['now-1h', 'Last hour'], ['now-6h', 'Last 6 hours'],
  ['now-24h', 'Last 24 hours'], ['now-7d', 'Last 7 days'], ['now-30d', 'Last 30 days'],
  ['now-90d', 'Last 90 days'],
];
// Twelve colours that stay apart (Grafana's classic palette order); series past the 11th are
// summed into "Other".
const PALETTE = ['#7eb26d', '#eab839', '#6ed0e0', '#ef843c', '#e24d42', '#1f78c1', '#ba43a9', '#705da0',
  '#508642', '#cca300', '#447ebc', '#c15c17'];
const OTHER_COLOUR = '#8e8e8e';
const MAX_SERIES = PALETTE.length;
const ALL = '$__all';
const TIMEZONES = { browser: 'Browser', utc: 'UTC', org: 'Organization default' };

const dashboard = JSON.parse(document.getElementById('dashboard-json').textContent);
const { apiBase, defaultTimezone, noOrganization, loginUrl, uid } = document.body.dataset;
const csrf = document.cookie.split('; ').find((c) => c.startsWith('csrftoken='))?.split('=')[1] ?? '';
const charts = new Map();
const results = new Map();
const state = readState();
const dark = window.matchMedia?.('(prefers-color-scheme: dark)');

function readState() {
  const params = new URLSearchParams(location.search);
  const variables = {};
  for (const [key, value] of params) {
    if (key.startsWith('var-') && value !== ALL && value !== 'All') (variables[key.slice(4)] ??= []).push(value);
  }
  const tz = params.get('tz');
  return {
    from: params.get('from') || dashboard.time?.from || 'now-7d',
    to: params.get('to') || dashboard.time?.to || 'now',
    tz: tz in TIMEZONES ? tz : 'browser',
    variables,
  };
}

function writeState() {
  const params = new URLSearchParams({ from: state.from, to: state.to, tz: state.tz });
  for (const [name, values] of Object.entries(state.variables)) {
    for (const value of values) params.append(`var-${name}`, value);
  }
  history.replaceState(null, '', `${location.pathname}?${params}`);
}

/** The timezone the panels use: Grafana's `utc` or an IANA name. */
function timezone() {
  if (state.tz === 'utc') return 'utc';
  if (state.tz === 'org') return defaultTimezone || 'utc';
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'utc';
}

class SignedOut extends Error {}

async function post(path, body) {
  const response = await fetch(`${apiBase}${path}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 || (response.status === 403 && data.error?.code === 'not_authenticated')) {
    signIn();
    throw new SignedOut('Signed out');
  }
  if (!response.ok) throw new Error(data.error?.message || data.detail || `HTTP ${response.status}`);
  return data;
}

/** The session ended: to the sign-in page, which brings the viewer back to this exact view. */
function signIn() {
  if (document.body.dataset.state === 'signed-out') return;
  document.body.dataset.state = 'signed-out';
  writeState();
  location.assign(`${loginUrl}?next=${encodeURIComponent(location.pathname + location.search)}`);
}

function requestBody(extra = {}) {
  return { from: state.from, to: state.to, timezone: timezone(), variables: state.variables, ...extra };
}

// --- time range and timezone -----------------------------------------------------------------

// The custom range's inputs are wall-clock times of the dashboard's timezone, as every time on
// the page is.
function toLocalInput(value) {
  return wallClock(value, timezone());
}

function fromLocalInput(text) {
  return text ? fromWallClock(text, timezone()) : NaN;
}

function buildTimePicker() {
  const select = document.getElementById('time-preset');
  for (const [value, label] of PRESETS) select.add(new Option(label, value));
  select.add(new Option('Custom range', 'custom'));
  const custom = document.getElementById('time-custom');
  const fromInput = document.getElementById('time-from');
  const toInput = document.getElementById('time-to');
  const isPreset = state.to === 'now' && PRESETS.some(([v]) => v === state.from);
  select.value = isPreset ? state.from : 'custom';
  custom.hidden = isPreset;
  if (!isPreset) {
    fromInput.value = toLocalInput(Number(state.from) || Date.parse(state.from));
    toInput.value = toLocalInput(Number(state.to) || Date.parse(state.to));
  }
  select.addEventListener('change', () => {
    if (select.value === 'custom') {
      custom.hidden = false;
      fromInput.value ||= toLocalInput(Date.now() - 7 * DAY);
      toInput.value ||= toLocalInput(Date.now());
      return;
    }
    custom.hidden = true;
    state.from = select.value;
    state.to = 'now';
    refreshAll();
  });
  document.getElementById('time-apply').addEventListener('click', () => {
    const from = fromLocalInput(fromInput.value);
    const to = fromLocalInput(toInput.value);
    if (Number.isNaN(from) || Number.isNaN(to) || from >= to) {
      showError('time-error', 'Pick a start before the end.');
      return;
    }
    showError('time-error', '');
    state.from = String(from);
    state.to = String(to);
    refreshAll();
  });
  const zone = document.getElementById('timezone');
  for (const [value, label] of Object.entries(TIMEZONES)) {
    const name = value === 'browser' ? Intl.DateTimeFormat().resolvedOptions().timeZone
      : value === 'org' ? defaultTimezone : 'UTC';
    zone.add(new Option(`${label} (${intlZone(name)})`, value));
  }
  zone.value = state.tz;
  zone.addEventListener('change', () => {
    state.tz = zone.value;
    if (!custom.hidden && select.value === 'custom' && Number(state.from)) {
      fromInput.value = toLocalInput(Number(state.from));
      toInput.value = toLocalInput(Number(state.to));
    }
    refreshPanels();
  });
  document.getElementById('refresh').addEventListener('click', () => refreshAll());
  document.getElementById('export-events').addEventListener('click', exportEvents);
}

function showError(id, message) {
  const node = document.getElementById(id);
  node.textContent = message;
  node.hidden = !message;
}

function notice(message) {
  const list = document.getElementById('notices');
  const item = document.createElement('li');
  item.textContent = message;
  list.append(item);
  list.hidden = false;
}

// --- variables -------------------------------------------------------------------------------

function visibleVariables() {
  return (dashboard.templating?.list ?? []).filter((v) => v.hide !== 2 && v.type === 'query');
}

const variableOptions = new Map();

function selectionText(name) {
  const chosen = state.variables[name];
  if (!chosen?.length) return 'All';
  const texts = new Map((variableOptions.get(name) ?? []).map((o) => [o.value, o.text]));
  const shown = chosen.map((v) => texts.get(v) ?? v);
  return shown.length <= 2 ? shown.join(', ') : `${shown.length} selected`;
}

/** A multi-select: a button showing the selection, opening a list of checkboxes with All. */
function variableControl(variable) {
  const wrapper = document.createElement('div');
  wrapper.className = 'variable';
  wrapper.dataset.variable = variable.name;
  const label = document.createElement('span');
  label.className = 'variable-label';
  label.textContent = variable.label || variable.name;
  const details = document.createElement('details');
  const summary = document.createElement('summary');
  const list = document.createElement('div');
  list.className = 'options';
  details.append(summary, list);
  wrapper.append(label, details);
  details.addEventListener('toggle', () => {
    if (details.open) {
      for (const other of document.querySelectorAll('.variable details[open]')) if (other !== details) other.open = false;
    } else if (wrapper.dataset.dirty) {
      delete wrapper.dataset.dirty;
      refreshFrom(variable.name);
    }
  });
  return wrapper;
}

function fillControl(wrapper, variable, options) {
  const name = variable.name;
  const list = wrapper.querySelector('.options');
  list.replaceChildren();
  const chosen = new Set(state.variables[name] ?? []);
  const box = (value, text, checked) => {
    const row = document.createElement('label');
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.value = value;
    input.checked = checked;
    row.append(input, document.createTextNode(` ${text}`));
    list.append(row);
    return input;
  };
  const all = box(ALL, 'All', chosen.size === 0);
  const inputs = options.map((o) => box(o.value, o.text, chosen.has(o.value)));
  const apply = () => {
    const picked = inputs.filter((i) => i.checked).map((i) => i.value);
    if (picked.length) state.variables[name] = picked;
    else delete state.variables[name];
    all.checked = picked.length === 0;
    showSelection(wrapper, name);
    wrapper.dataset.dirty = '1';
  };
  all.addEventListener('change', () => {
    for (const input of inputs) input.checked = false;
    apply();
  });
  for (const input of inputs) input.addEventListener('change', apply);
  if (!options.length) list.append(Object.assign(document.createElement('p'), { className: 'muted', textContent: 'No values in this range' }));
  showSelection(wrapper, name);
}

function showSelection(wrapper, name) {
  wrapper.querySelector('summary').textContent = selectionText(name);
  wrapper.dataset.selected = JSON.stringify(state.variables[name] ?? []);
}

/** Options of each variable in order, each asked with its parents' current selection, so a child
 * list narrows as soon as a parent changes; a selected value no longer offered is dropped, and the
 * page says so. */
async function loadVariables(startAt = null) {
  const bar = document.getElementById('variables');
  const variables = visibleVariables();
  let reached = startAt === null;
  for (const variable of variables) {
    let wrapper = bar.querySelector(`.variable[data-variable="${CSS.escape(variable.name)}"]`);
    if (!wrapper) {
      wrapper = variableControl(variable);
      bar.append(wrapper);
    }
    if (!reached) {
      reached = variable.name === startAt;
      continue;
    }
    wrapper.classList.remove('failed');
    try {
      // Asked with the choices of the variables before it only: its own (possibly stale) choice
      // must not narrow, or be refused for, the list it is checked against.
      const before = variables.slice(0, variables.indexOf(variable)).map((v) => v.name);
      const parents = Object.fromEntries(Object.entries(state.variables).filter(([name]) => before.includes(name)));
      const { options } = await post(`/variables/${encodeURIComponent(variable.name)}`, requestBody({ variables: parents }));
      variableOptions.set(variable.name, options);
      const offered = new Set(options.map((o) => o.value));
      const chosen = state.variables[variable.name] ?? [];
      const stale = chosen.filter((v) => !offered.has(v));
      if (stale.length) {
        const kept = chosen.filter((v) => offered.has(v));
        if (kept.length) state.variables[variable.name] = kept;
        else delete state.variables[variable.name];
        notice(`${variable.label || variable.name}: ${stale.join(', ')} ${stale.length > 1 ? 'are' : 'is'} not among the options for this range and these filters, so ${stale.length > 1 ? 'they were' : 'it was'} removed from the selection.`);
      }
      fillControl(wrapper, variable, options);
    } catch (error) {
      if (error instanceof SignedOut) throw error;
      wrapper.classList.add('failed');
      wrapper.title = error.message;
      variableOptions.set(variable.name, []);
      fillControl(wrapper, variable, []);
    }
  }
}

async function refreshFrom(name) {
  // The changed variable keeps its choice; the ones after it (its children) are asked again.
  const names = visibleVariables().map((v) => v.name);
  const next = names[names.indexOf(name) + 1];
  writeState();
  document.body.dataset.state = 'loading';
  try {
    if (next) await loadVariables(name);
    writeState();
    await refreshPanels();
  } catch (error) {
    if (!(error instanceof SignedOut)) throw error;
  }
}

// --- panels ----------------------------------------------------------------------------------

function buildGrid() {
  const grid = document.getElementById('panels');
  grid.replaceChildren();
  // In reading order: on a phone the panels stack in this order.
  const ordered = [...(dashboard.panels ?? [])].sort((a, b) => (a.gridPos?.y ?? 0) - (b.gridPos?.y ?? 0) || (a.gridPos?.x ?? 0) - (b.gridPos?.x ?? 0));
  for (const panel of ordered) {
    if (panel.type === 'row') continue;
    const node = document.createElement('section');
    node.className = `panel panel-${panel.type}`;
    node.dataset.panelId = panel.id;
    const pos = panel.gridPos ?? { x: 0, y: 0, w: 24, h: 8 };
    node.style.setProperty('--x', pos.x + 1);
    node.style.setProperty('--w', pos.w);
    node.style.setProperty('--y', pos.y + 1);
    node.style.setProperty('--h', pos.h);
    const header = document.createElement('header');
    const title = document.createElement('h2');
    title.textContent = panel.title;
    if (panel.description) title.title = panel.description;
    const csv = document.createElement('button');
    csv.type = 'button';
    csv.className = 'csv';
    csv.textContent = 'CSV';
    csv.title = `Download the data of “${panel.title}” as CSV`;
    csv.addEventListener('click', () => {
      const result = results.get(panel.id);
      if (result) downloadCsv(`${uid}-${panel.title}`, toCsv(result));
    });
    header.append(title, csv);
    const body = document.createElement('div');
    body.className = 'panel-body';
    node.append(header, body);
    grid.append(node);
  }
}

const isNumber = (type) => /Int|Float|Decimal|Number|number/.test(type);
const isTime = (type) => /DateTime|Date|time/.test(type);

function themeColours() {
  const style = getComputedStyle(document.body);
  return { ink: style.getPropertyValue('--muted').trim() || '#666', line: style.getPropertyValue('--line').trim() || '#ddd' };
}

function renderChart(node, panel, config) {
  const body = node.querySelector('.panel-body');
  let canvas = body.querySelector('canvas');
  if (!canvas) {
    body.replaceChildren();
    canvas = document.createElement('canvas');
    body.append(canvas);
  }
  charts.get(panel.id)?.destroy();
  const { ink, line } = themeColours();
  Chart.defaults.color = ink;
  Chart.defaults.borderColor = line;
  charts.set(panel.id, new Chart(canvas, {
    ...config,
    options: { responsive: true, maintainAspectRatio: false, animation: false, ...config.options },
  }));
}

/** Long or wide frames -> [name, Map(time -> value)], biggest first, past 12 summed as Other. */
function seriesFrom(result) {
  const { columns, rows } = result;
  const timeIndex = columns.findIndex((c) => isTime(c.type));
  const labelIndex = columns.findIndex((c, i) => i !== timeIndex && !isNumber(c.type));
  const valueIndexes = columns.map((c, i) => i).filter((i) => i !== timeIndex && i !== labelIndex && isNumber(columns[i].type));
  const series = new Map();
  for (const row of rows) {
    const x = Date.parse(row[timeIndex]);
    for (const index of valueIndexes) {
      const name = labelIndex >= 0 ? String(row[labelIndex]) : columns[index].name;
      if (!series.has(name)) series.set(name, new Map());
      const points = series.get(name);
      points.set(x, (points.get(x) ?? 0) + (row[index] ?? 0));
    }
  }
  let list = [...series];
  if (labelIndex >= 0) {
    const total = (points) => [...points.values()].reduce((a, b) => a + b, 0);
    list.sort((a, b) => total(b[1]) - total(a[1]) || a[0].localeCompare(b[0]));
    if (list.length > MAX_SERIES) {
      const other = new Map();
      for (const [, points] of list.slice(MAX_SERIES - 1)) {
        for (const [x, y] of points) other.set(x, (other.get(x) ?? 0) + y);
      }
      list = [...list.slice(0, MAX_SERIES - 1), [`Other (${list.length - MAX_SERIES + 1})`, other]];
    }
  }
  return list;
}

const colour = (name, i) => (name.startsWith('Other (') ? OTHER_COLOUR : PALETTE[i % PALETTE.length]);

function valueAxis(unit, stacked = false, integers = false) {
  // Counts get whole-number ticks: half an event reads as a bug.
  return { beginAtZero: true, min: 0, stacked, ticks: { callback: (v) => formatTick(v, unit), maxTicksLimit: 6, ...(integers ? { precision: 0 } : {}) } };
}

const allIntegers = (result) => result.rows.every((row) => row.every((v, i) => !isNumber(result.columns[i].type) || v === null || Number.isInteger(v)));

function tooltipLabel(unit) {
  return (item) => `${item.dataset.label}: ${formatValue(item.parsed.y ?? item.parsed.x, unit)}`;
}

function renderTimeseries(node, panel, result) {
  const unit = panel.fieldConfig?.defaults?.unit ?? 'short';
  const { from, to, interval_s: intervalS } = result.meta;
  const tz = result.meta.timezone;
  const series = seriesFrom(result);
  if (panel.fieldConfig?.defaults?.custom?.drawStyle === 'bars') return renderPeriodBars(node, panel, result, series, unit);
  // Every bucket of the range gets a point: zero where nothing happened, as a count of nothing is 0.
  const step = intervalS * 1000;
  const buckets = [];
  for (let t = Math.floor(from / step) * step; t <= to; t += step) buckets.push(t);
  const { ink } = themeColours();
  renderChart(node, panel, {
    type: 'line',
    data: {
      datasets: series.map(([name, points], i) => ({
        label: name,
        data: buckets.map((x) => ({ x, y: points.get(x) ?? 0 })),
        borderColor: colour(name, i), backgroundColor: `${colour(name, i)}33`,
        pointRadius: buckets.length > 60 ? 0 : 2, pointHitRadius: 6, borderWidth: 1.5, tension: 0,
      })),
    },
    options: {
      parsing: false,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: {
        x: {
          type: 'linear', min: from, max: to,
          afterBuildTicks: (axis) => { axis.ticks = timeTicks(from, to, tz, node.clientWidth < 500 ? 4 : 8).map(({ value }) => ({ value })); },
          ticks: { autoSkip: false, maxRotation: 0, color: ink, callback: (v) => timeTicks(from, to, tz, node.clientWidth < 500 ? 4 : 8).find((t) => t.value === v)?.label ?? '' },
        },
        y: valueAxis(unit, false, unit === 'short' && allIntegers(result)),
      },
      plugins: {
        legend: { display: series.length > 1, position: 'bottom' },
        tooltip: {
          callbacks: {
            title: (items) => (items.length ? bucketTitle(items[0].parsed.x, step, tz) : ''),
            label: tooltipLabel(unit),
          },
        },
      },
    },
  });
  return series.length;
}

function bucketTitle(start, step, tz) {
  if (step >= DAY && isLocalMidnight(start, tz)) return formatDate(start, tz, true);
  return `${formatDateTime(start, tz)} – ${formatDateTime(start + step, tz).split(' ').pop()}`;
}

function periodLabel(start, intervalS, tz) {
  if (intervalS >= 2592000) return new Intl.DateTimeFormat('en-US', { timeZone: intlZone(tz), month: 'short', year: 'numeric' }).format(new Date(start));
  if (intervalS >= 604800) return `Week of ${formatDate(start, tz)}`;
  return formatDate(start, tz);
}

/** "Per day" panels: one stacked bar per calendar period of the range, every period shown. */
function renderPeriodBars(node, panel, result, series, unit) {
  const { from, to, interval_s: intervalS, timezone: tz } = result.meta;
  const starts = periodStarts(from, to, intervalS, tz);
  node.dataset.periods = String(starts.length);
  renderChart(node, panel, {
    type: 'bar',
    data: {
      labels: starts.map((s) => periodLabel(s, intervalS, tz)),
      datasets: series.map(([name, points], i) => ({
        label: name, data: starts.map((s) => points.get(s) ?? 0), backgroundColor: colour(name, i), stack: 'all',
      })),
    },
    options: {
      interaction: { mode: 'index', intersect: false },
      scales: { x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true } }, y: valueAxis(unit, true) },
      plugins: {
        legend: { display: series.length > 0, position: 'bottom' },
        tooltip: {
          filter: (item) => item.parsed.y > 0,
          callbacks: {
            title: (items) => (items.length ? (intervalS >= 604800 ? periodLabel(starts[items[0].dataIndex], intervalS, tz) : formatDate(starts[items[0].dataIndex], tz, true)) : ''),
            label: tooltipLabel(unit),
          },
        },
      },
    },
  });
  return series.length;
}

function renderBarchart(node, panel, result) {
  const { columns, rows } = result;
  const labelIndex = Math.max(0, columns.findIndex((c) => !isNumber(c.type)));
  const valueIndexes = columns.map((c, i) => i).filter((i) => i !== labelIndex && isNumber(columns[i].type));
  const unit = panel.fieldConfig?.defaults?.unit ?? 'short';
  const horizontal = panel.options?.orientation === 'horizontal';
  renderChart(node, panel, {
    type: 'bar',
    data: {
      labels: rows.map((row) => String(row[labelIndex])),
      datasets: valueIndexes.map((index, i) => ({
        label: columns[index].name, data: rows.map((row) => row[index]),
        backgroundColor: PALETTE[(i * 5) % PALETTE.length],
      })),
    },
    options: {
      indexAxis: horizontal ? 'y' : 'x',
      scales: { [horizontal ? 'x' : 'y']: valueAxis(unit, false, unit === 'short' && allIntegers(result)) },
      plugins: {
        legend: { display: valueIndexes.length > 1, position: 'bottom' },
        tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${formatValue(horizontal ? item.parsed.x : item.parsed.y, unit)}` } },
      },
    },
  });
  return rows.length;
}

function renderStat(node, panel, result) {
  const body = node.querySelector('.panel-body');
  const index = result.columns.findIndex((c) => isNumber(c.type));
  const value = result.rows.length && index >= 0 ? result.rows[result.rows.length - 1][index] : null;
  const big = document.createElement('div');
  big.className = 'stat-value';
  big.textContent = value === null ? (panel.options?.noValue ?? panel.fieldConfig?.defaults?.noValue ?? '–')
    : formatValue(value, panel.fieldConfig?.defaults?.unit);
  body.replaceChildren(big);
  return value === null ? 0 : 1;
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined || a === '') return 1;
  if (b === null || b === undefined || b === '') return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

function renderTable(node, panel, result) {
  const body = node.querySelector('.panel-body');
  const tz = result.meta?.timezone ?? 'utc';
  const sort = node.sortState ?? { index: -1, direction: 1 };
  const table = document.createElement('table');
  const head = table.createTHead().insertRow();
  const units = result.columns.map((c) => columnUnit(panel, c.name));
  result.columns.forEach((column, i) => {
    const th = document.createElement('th');
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = column.name;
    th.append(button);
    th.setAttribute('aria-sort', sort.index === i ? (sort.direction > 0 ? 'ascending' : 'descending') : 'none');
    if (isNumber(column.type)) th.className = 'number';
    button.addEventListener('click', () => {
      node.sortState = { index: i, direction: sort.index === i ? -sort.direction : isNumber(column.type) ? -1 : 1 };
      renderTable(node, panel, result);
    });
    head.append(th);
  });
  const rows = sort.index >= 0
    ? [...result.rows].sort((a, b) => sort.direction * compare(a[sort.index], b[sort.index]))
    : result.rows;
  const tbody = table.createTBody();
  for (const row of rows) {
    const tr = tbody.insertRow();
    row.forEach((value, i) => {
      const td = tr.insertCell();
      const type = result.columns[i].type;
      if (isNumber(type)) {
        td.textContent = formatValue(value, units[i]);
        td.className = 'number';
        if (typeof value === 'number') td.dataset.value = String(value);
      } else if (isTime(type) && value) {
        const ms = Date.parse(value);
        td.textContent = isLocalMidnight(ms, tz) ? formatDate(ms, tz, true) : formatDateTime(ms, tz);
        td.dataset.value = value;
      } else {
        td.textContent = value ?? '';
      }
    });
  }
  body.replaceChildren(table);
  return result.rows.length;
}

const RENDERERS = { timeseries: renderTimeseries, barchart: renderBarchart, stat: renderStat, table: renderTable };

/** Why a panel is empty, in words. */
function emptyReason(result) {
  if (noOrganization === 'true' || result.meta?.no_organization) return 'You are not a member of any organization yet, so there is nothing to show.';
  const filtered = Object.entries(state.variables).filter(([, values]) => values.length);
  if (filtered.length) {
    const names = filtered.map(([name]) => visibleVariables().find((v) => v.name === name)?.label || name);
    return `Nothing matches the filters (${names.join(', ')}) in this range.`;
  }
  return `Nothing was recorded in this range (${describeRange()}).`;
}

function describeRange() {
  const preset = PRESETS.find(([v]) => v === state.from && state.to === 'now');
  if (preset) return preset[1].toLowerCase();
  const tz = timezone();
  return `${formatDateTime(Number(state.from) || Date.parse(state.from), tz)} – ${formatDateTime(Number(state.to) || Date.parse(state.to), tz)}`;
}

async function refreshPanel(node, panel) {
  node.classList.add('loading');
  node.classList.remove('failed', 'empty');
  try {
    const result = await post(`/panels/${panel.id}`, requestBody());
    results.set(panel.id, result);
    const render = RENDERERS[panel.type] ?? renderTable;
    node.dataset.rows = String(result.rows.length);
    const shown = result.rows.length ? render(node, panel, result) : 0;
    if (!shown) {
      node.classList.add('empty');
      charts.get(panel.id)?.destroy();
      charts.delete(panel.id);
      const message = document.createElement('p');
      message.className = 'no-data';
      message.textContent = emptyReason(result);
      if (panel.type === 'stat' && result.rows.length) render(node, panel, result);
      else node.querySelector('.panel-body').replaceChildren(message);
    }
  } catch (error) {
    if (error instanceof SignedOut) throw error;
    node.classList.add('failed');
    node.querySelector('.panel-body').replaceChildren(Object.assign(
      document.createElement('p'), { className: 'panel-error', textContent: error.message }));
  } finally {
    node.classList.remove('loading');
  }
}

async function refreshPanels() {
  writeState();
  document.getElementById('timezone-shown').textContent = `Times in ${intlZone(timezone())}`;
  document.body.dataset.state = 'loading';
  const nodes = [...document.querySelectorAll('.panel')];
  try {
    await Promise.all(nodes.map((node) => refreshPanel(
      node, dashboard.panels.find((p) => String(p.id) === node.dataset.panelId))));
    document.body.dataset.state = 'ready';
  } catch (error) {
    if (!(error instanceof SignedOut)) throw error;
  }
}

async function refreshAll() {
  writeState();
  document.getElementById('notices').replaceChildren();
  document.getElementById('notices').hidden = true;
  document.body.dataset.state = 'loading';
  try {
    await loadVariables();
    await refreshPanels();
  } catch (error) {
    if (!(error instanceof SignedOut)) throw error;
  }
}

// --- raw events out --------------------------------------------------------------------------

const EXPORT_FILTERS = { organization: 'org_id', project: 'project_id', task: 'task_id', job: 'job_id', user: 'user_id' };

function absolute(value) {
  const match = /^now(?:-(\d+)([smhdwMy]))?$/.exec(value);
  if (!match) return new Date(Number(value) || Date.parse(value));
  const seconds = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, M: 2592000, y: 31536000 };
  return new Date(Date.now() - (match[1] ? Number(match[1]) * seconds[match[2]] * 1000 : 0));
}

/** The raw events of the current range and filters, through the export API (CVAT's job flow). */
async function exportEvents() {
  const status = document.getElementById('export-status');
  const params = new URLSearchParams({ from: absolute(state.from).toISOString(), to: absolute(state.to).toISOString(), format: 'csv' });
  const slugs = JSON.parse(document.getElementById('organizations-json').textContent);
  const chosenOrgs = state.variables.organization ?? [];
  const org = chosenOrgs.length === 1 ? slugs[chosenOrgs[0]]
    : Object.keys(slugs).length === 1 ? Object.values(slugs)[0] : null;
  status.hidden = false;
  if (!org) {
    status.textContent = 'Pick one organization to export its raw events.';
    return undefined;
  }
  params.set('org', org);
  const skipped = [];
  for (const [name, column] of Object.entries(EXPORT_FILTERS)) {
    const values = state.variables[name] ?? [];
    if (values.length === 1) params.set(column, values[0]);
    else if (values.length > 1) skipped.push(name);
  }
  status.textContent = skipped.length
    ? `Exporting… (the export takes one value per filter: every ${skipped.join(', ')} is included)`
    : 'Exporting…';
  try {
    const started = await fetch(`/api/events/export?${params}`, {
      method: 'POST', credentials: 'same-origin', headers: { 'X-CSRFToken': csrf },
    });
    if (started.status === 401 || started.status === 403) {
      const data = await started.json().catch(() => ({}));
      if (/credentials|authenticat/i.test(JSON.stringify(data))) return signIn();
      throw new Error(data.detail || `HTTP ${started.status}`);
    }
    const { rq_id: rqId } = await started.json();
    for (let attempt = 0; attempt < 120; attempt += 1) {
      const answer = await fetch(`/api/requests/${rqId}`, { credentials: 'same-origin' });
      const request = await answer.json();
      if (request.status === 'finished') {
        status.textContent = `${request.rows} events exported.`;
        location.assign(request.result_url);
        return undefined;
      }
      if (request.status === 'failed') throw new Error(request.message || 'the export failed');
      await new Promise((resolve) => { setTimeout(resolve, 500); });
    }
    throw new Error('the export is taking long; try again later');
  } catch (error) {
    status.textContent = `Export failed: ${error.message}`;
  }
  return undefined;
}

// --- start -----------------------------------------------------------------------------------

document.addEventListener('click', (event) => {
  for (const open of document.querySelectorAll('.variable details[open]')) {
    if (!open.contains(event.target)) open.open = false;
  }
});
dark?.addEventListener?.('change', () => refreshPanels());
buildTimePicker();
buildGrid();
refreshAll();
