// Client event logger for POST /api/events (CVAT's wire format, plus an Idempotency-Key).
// Dependency-free ES module: <script type="module"> import { createLogger } from '/static/client/analytics-logger.js'
//
// Life of an event: log()/canvasReady() append it to the open queue; a flush seals the queue into
// batches, each with its own Idempotency-Key, that never change afterwards; batches are sent in
// order, one request at a time (several small keepalive requests while the page is hidden), and
// leave storage only when the server has answered 2xx, or a 4xx that says it never will accept them.
// Every change is written to storage at once, so a reload or crash loses nothing already recorded.

export const DEFAULTS = Object.freeze({
  endpoint: '/api/events',
  organization: null,
  headers: null,
  context: null,
  flushIntervalMs: 90_000,
  activityIntervalMs: 60_000,
  trackActivity: true,
  storageKey: 'analytics-logger',
  csrfCookieName: 'csrftoken',
  maxBatchSize: 1000,
  maxBatchBytes: 32 * 1024,
  maxStoredEvents: 10_000,
  retryBaseMs: 2_000,
  retryMaxMs: 5 * 60_000,
  requestTimeoutMs: 30_000,
  resendDelayMs: 3_000,
  staleAfterMs: 15 * 60_000,
  onError: null,
});

// Browsers allow 64 KiB of keepalive request bodies in flight per page; leave room for others.
export const KEEPALIVE_BUDGET_BYTES = 63 * 1024;

const RECORD_VERSION = 1;
const ID_FIELDS = ['project_id', 'task_id', 'job_id'];
const EVENT_FIELDS = new Set(['obj_name', 'obj_id', 'obj_val', 'count', 'duration', ...ID_FIELDS, 'payload']);
const encoder = new TextEncoder();

const utf8Length = (text) => encoder.encode(text).byteLength;
const iso = (ms) => new Date(ms).toISOString();
const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function toInt(value) {
  if (value === null || value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isInteger(n) ? n : undefined;
}

function toText(value) {
  return value === null || value === undefined ? undefined : String(value);
}

function randomBytes(n) {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

// crypto.randomUUID() exists only in secure contexts; annotation servers often run on plain http.
function uuid4() {
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function tenDigits() {
  let out = '';
  while (out.length < 10) {
    for (const byte of randomBytes(16)) {
      if (byte < 250 && out.length < 10) out += String(byte % 10); // 250 = 25 * 10: no modulo bias
    }
  }
  return out;
}

function readCookie(doc, name) {
  let cookies = '';
  try {
    cookies = doc?.cookie ?? '';
  } catch {
    return null; // sandboxed documents throw on cookie access
  }
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return null;
}

function memoryStorage() {
  const items = new Map();
  return {
    get length() {
      return items.size;
    },
    key: (i) => Array.from(items.keys())[i] ?? null,
    getItem: (k) => (items.has(k) ? items.get(k) : null),
    setItem: (k, v) => void items.set(k, String(v)),
    removeItem: (k) => void items.delete(k),
  };
}

function defaultStorage() {
  try {
    if (globalThis.localStorage) return globalThis.localStorage;
  } catch {
    // localStorage access throws when storage is disabled for the site
  }
  return memoryStorage();
}

function retryAfterMs(response, nowMs) {
  const value = response.headers?.get?.('Retry-After');
  if (!value) return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : 0;
}

function normalizeContext(ctx) {
  const out = {};
  for (const k of ID_FIELDS) out[k] = ctx?.[k] === null ? null : toInt(ctx?.[k]);
  return out;
}

export function createLogger(options = {}) {
  const opt = { ...DEFAULTS };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) opt[k] = v;

  const doc = 'document' in options ? options.document : globalThis.document;
  const win = 'window' in options ? options.window : globalThis.window;
  const storage = opt.storage ?? defaultStorage();
  const fetchImpl = opt.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const now = opt.now ? () => Number(opt.now()) : () => Date.now();
  const timers = opt.timers ?? globalThis;

  const prefix = `${opt.storageKey}:outbox:`;
  const ownKey = prefix + uuid4();

  let context = normalizeContext(opt.context);
  let org = opt.organization || null;
  let queue = []; // recorded events not yet sealed into a batch
  let batches = []; // sealed: { key, seq, org, events, prev? } — `prev` is fixed at the first send
  let previousEvent = null; // last event of the last batch the server accepted
  let lastAcceptedSeq = 0;
  let nextSeq = 1;
  let run = null; // the queued change:frame that later frame changes may still merge into
  let pendingFrame = null; // opened by changeFrame(), closed by canvasReady()
  let lastActivity = -Infinity;
  let released = false; // the page is going away: any other instance may adopt our outbox
  let unloading = false;
  let destroyed = false;
  let lastWrite = -Infinity;
  let writeOk = false;
  let storageBroken = false;
  let attempt = 0;
  let nextRetryAt = 0;
  let retryTimer = null;
  let flushTimer = null;
  let running = false;
  let waiters = [];
  const inflight = new Set();
  const unlisten = [];

  function report(kind, message, details = {}) {
    if (typeof opt.onError !== 'function') return;
    try {
      opt.onError(Object.assign(new Error(message), { kind }, details));
    } catch {
      // a failing error callback must not break logging
    }
  }

  function storageGet(key) {
    try {
      return storage.getItem(key);
    } catch {
      return undefined; // unknown, as opposed to null: absent
    }
  }

  function storageSet(key, value) {
    try {
      storage.setItem(key, value);
      return true;
    } catch (error) {
      return error;
    }
  }

  function storageRemove(key) {
    try {
      storage.removeItem(key);
    } catch {
      // nothing else to do
    }
  }

  let clientId = storageGet(`${opt.storageKey}:client-id`);
  if (!/^\d{10}$/.test(clientId ?? '')) {
    clientId = tenDigits();
    storageSet(`${opt.storageKey}:client-id`, clientId);
  }

  // ---- persistence --------------------------------------------------------------------------

  function commit() {
    // After pagehide/freeze/destroy another instance may have adopted the outbox; never revive it.
    if (released && writeOk && storageGet(ownKey) === null) return;
    const record = {
      v: RECORD_VERSION,
      heartbeat: now(),
      released,
      org,
      queue,
      batches,
      previousEvent,
    };
    const result = storageSet(ownKey, JSON.stringify(record));
    writeOk = result === true;
    lastWrite = now();
    if (!writeOk && !storageBroken) {
      report('storage', 'could not persist unsent events; they are kept in memory only', { cause: result });
    }
    storageBroken = !writeOk;
  }

  // An owner that stopped writing for staleAfterMs (or released its outbox) may have been adopted
  // by another instance. If our record is gone, that instance now sends what we had stored.
  function reclaim() {
    if (!writeOk) return;
    if (!released && now() - lastWrite < opt.staleAfterMs / 2) return;
    if (storageGet(ownKey) !== null) return;
    queue = [];
    batches = [];
    run = null;
  }

  function adoptOrphans() {
    const t = now();
    const keys = [];
    try {
      for (let i = 0; i < storage.length; i += 1) {
        const k = storage.key(i);
        if (k && k.startsWith(prefix) && k !== ownKey) keys.push(k);
      }
    } catch {
      return;
    }
    const taken = [];
    let adoptedPrev = null;
    for (const k of keys) {
      const raw = storageGet(k);
      if (typeof raw !== 'string') continue;
      let record = null;
      try {
        record = JSON.parse(raw);
      } catch {
        storageRemove(k); // unreadable: nothing can ever send it
        continue;
      }
      if (!isPlainObject(record) || record.v !== RECORD_VERSION) continue;
      if (!record.released && !(t - Number(record.heartbeat) > opt.staleAfterMs)) continue; // owner alive
      for (const b of Array.isArray(record.batches) ? record.batches : []) {
        if (typeof b?.key === 'string' && Array.isArray(b.events) && b.events.length) {
          batches.push({ ...b, seq: nextSeq++ });
        }
      }
      if (Array.isArray(record.queue) && record.queue.length) {
        batches.push(...split(record.queue, record.org || null));
      }
      const prev = record.previousEvent;
      if (isPlainObject(prev) && (!adoptedPrev || String(prev.timestamp) > String(adoptedPrev.timestamp))) {
        adoptedPrev = prev;
      }
      taken.push(k);
    }
    if (!taken.length) return;
    if (!previousEvent && adoptedPrev) previousEvent = adoptedPrev;
    commit();
    if (writeOk) taken.forEach(storageRemove);
  }

  // ---- recording ----------------------------------------------------------------------------

  function hasFocus() {
    try {
      return Boolean(doc?.hasFocus?.());
    } catch {
      return false;
    }
  }

  function describePlatform() {
    const agent = String(globalThis.navigator?.userAgent ?? '');
    const browsers = [['Edge', /Edg\/([\d.]+)/], ['Opera', /OPR\/([\d.]+)/], ['Firefox', /Firefox\/([\d.]+)/],
      ['Chrome', /(?:Chrome|Chromium)\/([\d.]+)/], ['Safari', /Version\/([\d.]+).*Safari/]];
    const systems = [['Windows', /Windows/], ['Android', /Android/], ['iOS', /iPhone|iPad/],
      ['macOS', /Mac OS X/], ['ChromeOS', /CrOS/], ['Linux', /Linux/]];
    const [name = 'Other', version = ''] = (() => {
      for (const [browser, pattern] of browsers) {
        const match = agent.match(pattern);
        if (match) return [browser, match[1].split('.')[0]];
      }
      return [];
    })();
    const os = systems.find(([, pattern]) => pattern.test(agent))?.[0] ?? 'Other';
    return { name, version, os, language: globalThis.navigator?.language ?? '' };
  }

  function payloadObject(value) {
    if (value === null || value === undefined) return {};
    if (typeof value === 'string') {
      try {
        const parsed = JSON.parse(value);
        return isPlainObject(parsed) ? parsed : { value: parsed };
      } catch {
        return { value };
      }
    }
    return isPlainObject(value) ? value : { value };
  }

  function stringifyPayload(payload) {
    try {
      return JSON.stringify(payload);
    } catch (cause) {
      report('payload', 'event payload is not serialisable to JSON; it was replaced', { cause });
      return JSON.stringify({ client_id: clientId, is_active: payload.is_active });
    }
  }

  function buildEvent(scope, fields, timestampMs) {
    if (typeof scope !== 'string' || !scope) throw new TypeError('scope must be a non-empty string');
    const f = isPlainObject(fields) ? fields : {};
    const extra = {};
    for (const [k, v] of Object.entries(f)) if (!EVENT_FIELDS.has(k)) extra[k] = v;
    const payload = { ...payloadObject(f.payload), ...extra, client_id: clientId, is_active: hasFocus() };
    // CVAT's client describes the browser on load:cvat; the Browsers and OS panels read it.
    if (scope === 'load:cvat' && !payload.platform) payload.platform = describePlatform();
    const event = {
      scope,
      timestamp: iso(timestampMs),
      obj_name: toText(f.obj_name),
      obj_id: toInt(f.obj_id),
      obj_val: toText(f.obj_val),
      source: 'client',
      count: toInt(f.count) ?? 1,
      duration: Math.max(0, Math.round(Number(f.duration) || 0)),
    };
    for (const k of ID_FIELDS) event[k] = k in f ? (f[k] === null ? null : toInt(f[k])) : context[k];
    event.payload = stringifyPayload(payload);
    for (const k of Object.keys(event)) if (event[k] === undefined) delete event[k];
    return event;
  }

  function storedCount() {
    return batches.reduce((n, b) => n + b.events.length, queue.length);
  }

  function enforceCap() {
    let excess = storedCount() - opt.maxStoredEvents;
    if (excess <= 0) return;
    let dropped = 0;
    while (excess > 0) {
      const i = batches.findIndex((b) => !inflight.has(b)); // a batch in flight may already be stored
      let n = 0;
      if (i >= 0) n = batches.splice(i, 1)[0].events.length;
      else if (queue.length) n = (queue.shift(), 1);
      else break;
      excess -= n;
      dropped += n;
    }
    if (!queue.length) run = null;
    report('overflow', `more than ${opt.maxStoredEvents} unsent events; dropped the ${dropped} oldest`, { dropped });
  }

  function record(event) {
    queue.push(event);
    enforceCap();
    commit();
    if (queue.length >= opt.maxBatchSize) flushNow(false);
  }

  function log(scope, fields) {
    if (destroyed) return;
    const event = buildEvent(scope, fields, now());
    reclaim();
    run = null; // any other event ends a run of merged frame changes
    record(event);
  }

  function closeFrame(t) {
    const p = pendingFrame;
    pendingFrame = null;
    if (run && run.event === queue[queue.length - 1] && run.jobId === p.ids.job_id && run.step === p.step) {
      run.payload.to = p.to;
      run.event.count += 1;
      run.event.duration = Math.max(0, Math.round(t - run.start));
      run.event.payload = JSON.stringify(run.payload);
      commit();
      return;
    }
    const fields = { ...p.ids, duration: t - p.start, payload: { from: p.from, to: p.to, step: p.step } };
    const event = buildEvent('change:frame', fields, p.start);
    run = { event, payload: JSON.parse(event.payload), start: p.start, jobId: p.ids.job_id, step: p.step };
    record(event); // may seal the queue (batch full), which ends the run
  }

  function changeFrame({ from, to, step } = {}) {
    if (destroyed) return;
    reclaim();
    const t = now();
    if (pendingFrame) closeFrame(t); // the canvas never became ready for the previous change
    const f = toInt(from);
    const tt = toInt(to);
    pendingFrame = {
      start: t,
      from: f,
      to: tt,
      step: toInt(step) ?? (f !== undefined && tt !== undefined ? tt - f : undefined),
      ids: { ...context },
    };
  }

  function canvasReady() {
    if (destroyed || !pendingFrame) return;
    reclaim();
    closeFrame(now());
  }

  function onActivity() {
    if (destroyed) return;
    if (doc && doc.visibilityState !== undefined && doc.visibilityState !== 'visible') return;
    const t = now();
    if (t - lastActivity < opt.activityIntervalMs) return;
    lastActivity = t;
    log('user:activity');
  }

  function setContext(ctx) {
    context = normalizeContext(ctx);
  }

  function setOrganization(slug) {
    const next = slug || null;
    if (next === org || destroyed) return;
    reclaim();
    seal(); // a batch is sent with one X-Organization header, so it never mixes organizations
    org = next;
    commit();
  }

  // ---- sending ------------------------------------------------------------------------------

  function split(events, batchOrg) {
    const out = [];
    let current = [];
    let bytes = 0;
    for (const event of events) {
      const size = utf8Length(JSON.stringify(event)) + 1;
      if (current.length && (current.length >= opt.maxBatchSize || bytes + size > opt.maxBatchBytes)) {
        out.push(current);
        current = [];
        bytes = 0;
      }
      current.push(event);
      bytes += size;
    }
    if (current.length) out.push(current);
    return out.map((chunk) => ({ key: uuid4(), seq: nextSeq++, org: batchOrg, events: chunk }));
  }

  function seal() {
    run = null;
    if (!queue.length) return;
    batches.push(...split(queue, org));
    queue = [];
  }

  function bodyOf(batch) {
    if (!('prev' in batch)) {
      // The event just before this batch: the preceding pending batch's last one, or the last accepted.
      const before = batches[batches.indexOf(batch) - 1];
      batch.prev = before ? before.events[before.events.length - 1] : previousEvent;
    }
    return JSON.stringify({ events: batch.events, previous_event: batch.prev, timestamp: iso(now()) });
  }

  function headersFor(batch) {
    const extra = typeof opt.headers === 'function' ? opt.headers() : opt.headers;
    const headers = new Headers(extra ?? undefined);
    if (batch.org) headers.set('X-Organization', batch.org);
    const csrf = readCookie(doc, opt.csrfCookieName);
    if (csrf) headers.set('X-CSRFToken', csrf);
    headers.set('Content-Type', 'application/json');
    headers.set('Idempotency-Key', batch.key);
    return headers;
  }

  function isHidden() {
    return unloading || doc?.visibilityState === 'hidden';
  }

  // Visible: the head batch alone. Hidden: as many batches as fit in the keepalive budget, because
  // the page may be gone before any response arrives.
  function nextRound() {
    if (!isHidden()) return [{ batch: batches[0], body: bodyOf(batches[0]), keepalive: false }];
    const round = [];
    let budget = KEEPALIVE_BUDGET_BYTES;
    for (const batch of batches) {
      const body = bodyOf(batch);
      const size = utf8Length(body);
      if (size > budget) {
        if (!round.length) round.push({ batch, body, keepalive: false }); // too big for keepalive
        break;
      }
      round.push({ batch, body, keepalive: true });
      budget -= size;
    }
    return round;
  }

  async function send({ batch, body, keepalive }) {
    inflight.add(batch);
    const controller = typeof AbortController === 'function' ? new AbortController() : null;
    const timer =
      controller && opt.requestTimeoutMs > 0 ? timers.setTimeout(() => controller.abort(), opt.requestTimeoutMs) : null;
    let outcome;
    try {
      const response = await fetchImpl(opt.endpoint, {
        method: 'POST',
        headers: headersFor(batch),
        body,
        credentials: 'same-origin',
        redirect: 'error', // a followed redirect turns the POST into a GET whose 200 would look like success
        keepalive,
        signal: controller?.signal,
      });
      const { status } = response;
      if (status >= 200 && status < 300) {
        outcome = { ok: true };
      } else if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        let detail = '';
        try {
          detail = (await response.text()).slice(0, 2000);
        } catch {
          // the reason is optional
        }
        outcome = { rejected: true, status, detail };
      } else {
        outcome = { retryAfter: retryAfterMs(response, now()) };
      }
    } catch (error) {
      outcome = { retryAfter: 0, error }; // network error, timeout, or a throwing headers() option
    } finally {
      if (timer !== null) timers.clearTimeout(timer);
      inflight.delete(batch);
    }

    const index = batches.indexOf(batch); // -1 if another instance adopted it meanwhile
    if (outcome.ok || outcome.rejected) {
      if (index >= 0) batches.splice(index, 1);
      if (outcome.ok && batch.seq > lastAcceptedSeq) {
        previousEvent = batch.events[batch.events.length - 1];
        lastAcceptedSeq = batch.seq;
      }
      commit();
    }
    if (outcome.rejected) {
      report('rejected', `server rejected ${batch.events.length} events with HTTP ${outcome.status}; dropped`, {
        status: outcome.status,
        detail: outcome.detail,
        events: batch.events,
        idempotencyKey: batch.key,
      });
    }
    return outcome;
  }

  function scheduleRetry(delay) {
    if (retryTimer !== null) timers.clearTimeout(retryTimer);
    nextRetryAt = now() + delay;
    retryTimer = timers.setTimeout(() => {
      retryTimer = null;
      pump(false);
    }, delay);
  }

  function backoff(retryAfter) {
    attempt += 1;
    const base = Math.min(opt.retryMaxMs, opt.retryBaseMs * 2 ** (attempt - 1));
    const jittered = base / 2 + (Math.random() * base) / 2;
    scheduleRetry(Math.min(opt.retryMaxMs, Math.max(jittered, retryAfter)));
  }

  async function drain(force) {
    running = true;
    try {
      while (!destroyed && batches.length) {
        if (!force && now() < nextRetryAt) break;
        force = false;
        const round = nextRound();
        commit(); // persist each batch's previous_event before it goes out
        const outcomes = await Promise.all(round.map(send));
        const failed = outcomes.filter((o) => 'retryAfter' in o);
        if (failed.length) {
          backoff(Math.max(...failed.map((o) => o.retryAfter)));
          break;
        }
        attempt = 0;
        nextRetryAt = 0;
      }
    } finally {
      running = false;
      const done = waiters;
      waiters = [];
      done.forEach((resolve) => resolve());
    }
  }

  // Resolves when no request is in flight and nothing more can be sent right now.
  function pump(force) {
    const idle = new Promise((resolve) => waiters.push(resolve));
    if (!running) {
      drain(force).catch((cause) => report('internal', 'analytics logger failed while sending', { cause }));
    }
    return idle;
  }

  function flushNow(force) {
    if (destroyed) return Promise.resolve();
    reclaim();
    seal();
    commit();
    return pump(force);
  }

  // ---- page lifecycle -----------------------------------------------------------------------

  function listen(target, type, handler, options) {
    if (typeof target?.addEventListener !== 'function') return;
    target.addEventListener(type, handler, options);
    unlisten.push(() => target.removeEventListener(type, handler, options));
  }

  function release() {
    released = true;
    commit();
  }

  function resume() {
    unloading = false;
    if (!released || destroyed) return;
    reclaim();
    released = false;
    commit();
    pump(false);
  }

  function tick() {
    if (destroyed) return;
    reclaim();
    adoptOrphans();
    flushNow(false);
  }

  function destroy() {
    if (destroyed) return;
    unlisten.splice(0).forEach((off) => off());
    if (flushTimer !== null) timers.clearInterval(flushTimer);
    if (retryTimer !== null) timers.clearTimeout(retryTimer);
    flushTimer = retryTimer = null;
    pendingFrame = null;
    seal(); // with keys assigned, an adopting instance sends exactly these batches
    release();
    destroyed = true;
    const done = waiters;
    waiters = [];
    done.forEach((resolve) => resolve());
  }

  if (opt.trackActivity) {
    const capture = { capture: true, passive: true };
    listen(doc, 'keydown', onActivity, capture);
    listen(doc, 'click', onActivity, capture);
  }
  listen(doc, 'visibilitychange', () => {
    if (doc.visibilityState === 'hidden') flushNow(true);
    else if (!destroyed) reclaim();
  });
  listen(win, 'pagehide', () => {
    if (destroyed) return;
    unloading = true;
    flushNow(true); // the keepalive requests start synchronously, inside this handler
    release();
  });
  listen(win, 'pageshow', (event) => {
    if (event.persisted) resume();
  });
  listen(doc, 'freeze', release);
  listen(doc, 'resume', resume);

  adoptOrphans();
  commit();
  if (batches.length) scheduleRetry(opt.resendDelayMs); // give a previous page's keepalive requests time to land
  if (opt.flushIntervalMs > 0 && Number.isFinite(opt.flushIntervalMs)) {
    flushTimer = timers.setInterval(tick, opt.flushIntervalMs);
  }

  return Object.freeze({
    log,
    changeFrame,
    canvasReady,
    flush: () => flushNow(true),
    save: () => flushNow(true),
    setContext,
    setOrganization,
    destroy,
    get clientId() {
      return clientId;
    },
  });
}
