// The built-in dashboard pages: render a generated Grafana dashboard (the same JSON Grafana
// provisions) with Chart.js. Panel and variable queries run on the server, by dashboard uid and
// panel id: the browser never sends SQL, and the server limits every query to the viewer's
// organizations.
import {
  BarController, BarElement, CategoryScale, Chart, Filler, Legend, LinearScale, LineController,
  LineElement, PointElement, Tooltip,
} from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, Filler, Legend, LinearScale, LineController,
  LineElement, PointElement, Tooltip);

const PRESETS = [
  ['now-15m', 'Last 15 minutes'], ['now-1h', 'Last hour'], ['now-6h', 'Last 6 hours'],
  ['now-24h', 'Last 24 hours'], ['now-7d', 'Last 7 days'], ['now-30d', 'Last 30 days'],
  ['now-90d', 'Last 90 days'],
];
const PALETTE = ['#3274d9', '#56a64b', '#e0b400', '#e02f44', '#8f3bb8', '#fa6400', '#1f9bb5', '#a1887f'];
const ALL = '__all__';

const dashboard = JSON.parse(document.getElementById('dashboard-json').textContent);
const apiBase = document.body.dataset.apiBase;
const csrf = document.cookie.split('; ').find((c) => c.startsWith('csrftoken='))?.split('=')[1] ?? '';
const charts = new Map();
const state = readState();

function readState() {
  const params = new URLSearchParams(location.search);
  const variables = {};
  for (const [key, value] of params) {
    if (key.startsWith('var-')) (variables[key.slice(4)] ??= []).push(value);
  }
  return {
    from: params.get('from') || dashboard.time?.from || 'now-7d',
    to: params.get('to') || dashboard.time?.to || 'now',
    variables,
  };
}

function writeState() {
  const params = new URLSearchParams({ from: state.from, to: state.to });
  for (const [name, values] of Object.entries(state.variables)) {
    for (const value of values) params.append(`var-${name}`, value);
  }
  history.replaceState(null, '', `${location.pathname}?${params}`);
}

async function post(path, body) {
  const response = await fetch(`${apiBase}${path}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error?.message || data.detail || `HTTP ${response.status}`);
  return data;
}

function requestBody(extra = {}) {
  return { from: state.from, to: state.to, variables: state.variables, ...extra };
}

// --- time range ------------------------------------------------------------------------------

function toLocalInput(value) {
  const date = new Date(value);
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
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
      fromInput.value ||= toLocalInput(Date.now() - 7 * 86400e3);
      toInput.value ||= toLocalInput(Date.now());
      return;
    }
    custom.hidden = true;
    state.from = select.value;
    state.to = 'now';
    refreshAll();
  });
  document.getElementById('time-apply').addEventListener('click', () => {
    const from = Date.parse(fromInput.value);
    const to = Date.parse(toInput.value);
    if (Number.isNaN(from) || Number.isNaN(to) || from >= to) {
      showError('time-error', 'Pick a start before the end.');
      return;
    }
    showError('time-error', '');
    state.from = String(from);
    state.to = String(to);
    refreshAll();
  });
  document.getElementById('refresh').addEventListener('click', () => refreshAll());
}

function showError(id, message) {
  const node = document.getElementById(id);
  node.textContent = message;
  node.hidden = !message;
}

// --- variables -------------------------------------------------------------------------------

function visibleVariables() {
  return (dashboard.templating?.list ?? []).filter((v) => v.hide !== 2 && v.type === 'query');
}

async function loadVariables() {
  const bar = document.getElementById('variables');
  bar.replaceChildren();
  for (const variable of visibleVariables()) {
    const wrapper = document.createElement('label');
    wrapper.className = 'variable';
    wrapper.append(document.createTextNode(variable.label || variable.name));
    const select = document.createElement('select');
    select.name = variable.name;
    select.dataset.variable = variable.name;
    select.add(new Option('All', ALL));
    wrapper.append(select);
    bar.append(wrapper);
    try {
      const { options } = await post(`/variables/${encodeURIComponent(variable.name)}`, requestBody());
      for (const option of options) select.add(new Option(option.text, option.value));
    } catch (error) {
      wrapper.classList.add('failed');
      wrapper.title = error.message;
    }
    const chosen = state.variables[variable.name]?.[0];
    select.value = chosen && [...select.options].some((o) => o.value === chosen) ? chosen : ALL;
    select.addEventListener('change', () => {
      if (select.value === ALL) delete state.variables[variable.name];
      else state.variables[variable.name] = [select.value];
      refreshPanels();
    });
  }
}

// --- panels ----------------------------------------------------------------------------------

function buildGrid() {
  const grid = document.getElementById('panels');
  grid.replaceChildren();
  for (const panel of dashboard.panels ?? []) {
    if (panel.type === 'row') continue;
    const node = document.createElement('section');
    node.className = `panel panel-${panel.type}`;
    node.dataset.panelId = panel.id;
    const pos = panel.gridPos ?? { x: 0, y: 0, w: 24, h: 8 };
    node.style.gridColumn = `${pos.x + 1} / span ${pos.w}`;
    node.style.gridRow = `${pos.y + 1} / span ${pos.h}`;
    const title = document.createElement('h2');
    title.textContent = panel.title;
    if (panel.description) title.title = panel.description;
    const body = document.createElement('div');
    body.className = 'panel-body';
    node.append(title, body);
    grid.append(node);
  }
}

const isNumber = (type) => /Int|Float|Decimal|Number|number/.test(type);
const isTime = (type) => /DateTime|Date|time/.test(type);

function formatValue(value, unit) {
  if (value === null || value === undefined) return '–';
  if (typeof value !== 'number') return String(value);
  const rounded = Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2).replace(/\.?0+$/, '');
  const number = Number(rounded).toLocaleString();
  if (unit === 'percent') return `${number}%`;
  if (unit === 'h') return `${number} h`;
  if (unit === 'ms') return `${number} ms`;
  return number;
}

function timeLabel(ms, span) {
  const date = new Date(ms);
  return span > 2 * 86400e3
    ? date.toLocaleDateString([], { month: 'short', day: 'numeric' }) +
        (span < 10 * 86400e3 ? ` ${date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}` : '')
    : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function seriesFrom(result) {
  // Wide frames (time, value columns) or long frames (time, label, value) pivoted into series.
  const { columns, rows } = result;
  const timeIndex = columns.findIndex((c) => isTime(c.type));
  const labelIndex = columns.findIndex((c, i) => i !== timeIndex && !isNumber(c.type));
  const valueIndexes = columns.map((c, i) => i).filter((i) => i !== timeIndex && isNumber(columns[i].type));
  const series = new Map();
  for (const row of rows) {
    const x = Date.parse(row[timeIndex]);
    for (const index of valueIndexes) {
      const name = labelIndex >= 0 ? String(row[labelIndex]) : columns[index].name;
      if (!series.has(name)) series.set(name, []);
      series.get(name).push({ x, y: row[index] });
    }
  }
  return series;
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
  charts.set(panel.id, new Chart(canvas, {
    ...config,
    options: { responsive: true, maintainAspectRatio: false, animation: false, ...config.options },
  }));
}

function breakGaps(series) {
  // Like Grafana, draw no line across a stretch with no rows: the smallest step between two
  // points is the query's interval, and a longer jump gets a null point that breaks the line.
  let step = Infinity;
  for (const [, points] of series) {
    points.sort((a, b) => a.x - b.x);
    for (let i = 1; i < points.length; i += 1) {
      const delta = points[i].x - points[i - 1].x;
      if (delta > 0 && delta < step) step = delta;
    }
  }
  if (!Number.isFinite(step)) return series;
  return series.map(([name, points]) => [name, points.flatMap((point, i) => (
    i > 0 && point.x - points[i - 1].x > 1.5 * step ? [{ x: points[i - 1].x + step, y: null }, point] : [point]))]);
}

function renderTimeseries(node, panel, result) {
  const series = breakGaps([...seriesFrom(result)]);
  const xs = series.flatMap(([, points]) => points.map((p) => p.x));
  const span = xs.length ? Math.max(...xs) - Math.min(...xs) : 0;
  renderChart(node, panel, {
    type: 'line',
    data: {
      datasets: series.map(([name, points], i) => ({
        label: name, data: points, borderColor: PALETTE[i % PALETTE.length], spanGaps: false,
        backgroundColor: `${PALETTE[i % PALETTE.length]}33`, pointRadius: 1.5, borderWidth: 1.5, tension: 0,
      })),
    },
    options: {
      parsing: false,
      scales: { x: { type: 'linear', ticks: { callback: (v) => timeLabel(v, span), maxTicksLimit: 8 } } },
      plugins: { legend: { display: series.length > 1, position: 'bottom' } },
    },
  });
  return series.reduce((n, [, points]) => n + points.filter((p) => p.y !== null).length, 0);
}

function renderBarchart(node, panel, result) {
  const { columns, rows } = result;
  const labelIndex = Math.max(0, columns.findIndex((c) => !isNumber(c.type)));
  const valueIndexes = columns.map((c, i) => i).filter((i) => i !== labelIndex && isNumber(columns[i].type));
  renderChart(node, panel, {
    type: 'bar',
    data: {
      labels: rows.map((row) => String(row[labelIndex])),
      datasets: valueIndexes.map((index, i) => ({
        label: columns[index].name, data: rows.map((row) => row[index]),
        backgroundColor: PALETTE[i % PALETTE.length],
      })),
    },
    options: {
      indexAxis: panel.options?.orientation === 'horizontal' ? 'y' : 'x',
      plugins: { legend: { display: valueIndexes.length > 1, position: 'bottom' } },
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
  big.textContent = formatValue(value, panel.fieldConfig?.defaults?.unit);
  body.replaceChildren(big);
  return value === null ? 0 : 1;
}

function renderTable(node, panel, result) {
  const body = node.querySelector('.panel-body');
  const unit = panel.fieldConfig?.defaults?.unit;
  const table = document.createElement('table');
  const head = table.createTHead().insertRow();
  for (const column of result.columns) {
    const th = document.createElement('th');
    th.textContent = column.name;
    head.append(th);
  }
  const tbody = table.createTBody();
  for (const row of result.rows) {
    const tr = tbody.insertRow();
    row.forEach((value, i) => {
      const td = tr.insertCell();
      const type = result.columns[i].type;
      td.textContent = isNumber(type) ? formatValue(value, unit)
        : isTime(type) && value ? new Date(value).toLocaleString() : (value ?? '');
      if (isNumber(result.columns[i].type)) td.className = 'number';
    });
  }
  body.replaceChildren(table);
  return result.rows.length;
}

const RENDERERS = { timeseries: renderTimeseries, barchart: renderBarchart, stat: renderStat, table: renderTable };

async function refreshPanel(node, panel) {
  node.classList.add('loading');
  node.classList.remove('failed', 'empty');
  try {
    const result = await post(`/panels/${panel.id}`, requestBody());
    const render = RENDERERS[panel.type] ?? renderTable;
    const shown = render(node, panel, result);
    node.dataset.rows = String(result.rows.length);
    if (!shown) {
      node.classList.add('empty');
      if (panel.type !== 'stat') node.querySelector('.panel-body').replaceChildren(Object.assign(
        document.createElement('p'), { className: 'no-data', textContent: 'No data in this range' }));
    }
  } catch (error) {
    node.classList.add('failed');
    node.querySelector('.panel-body').replaceChildren(Object.assign(
      document.createElement('p'), { className: 'panel-error', textContent: error.message }));
  } finally {
    node.classList.remove('loading');
  }
}

async function refreshPanels() {
  writeState();
  document.body.dataset.state = 'loading';
  const nodes = [...document.querySelectorAll('.panel')];
  await Promise.all(nodes.map((node) => refreshPanel(
    node, dashboard.panels.find((p) => String(p.id) === node.dataset.panelId))));
  document.body.dataset.state = 'ready';
}

async function refreshAll() {
  writeState();
  await loadVariables();
  await refreshPanels();
}

buildTimePicker();
buildGrid();
refreshAll();
