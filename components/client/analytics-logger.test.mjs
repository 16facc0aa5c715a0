// Run: node --test components/client/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, KEEPALIVE_BUDGET_BYTES } from './analytics-logger.js';

const T0 = Date.parse('2024-01-01T12:00:00.000Z');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const settle = () => new Promise((resolve) => setImmediate(resolve));

// A clock whose timers fire only when the test advances it.
function fakeClock(start = T0) {
  let t = start;
  let nextId = 0;
  const pending = new Map();
  const add = (fn, ms, every) => {
    nextId += 1;
    pending.set(nextId, { at: t + Math.max(0, ms), fn, every });
    return nextId;
  };
  return {
    now: () => t,
    setTimeout: (fn, ms) => add(fn, ms, 0),
    setInterval: (fn, ms) => add(fn, ms, ms),
    clearTimeout: (id) => pending.delete(id),
    clearInterval: (id) => pending.delete(id),
    timers: () => [...pending.values()],
    async advance(ms) {
      const end = t + ms;
      for (;;) {
        let due = null;
        for (const [id, timer] of pending) if (timer.at <= end && (!due || timer.at < due[1].at)) due = [id, timer];
        if (!due) break;
        const [id, timer] = due;
        t = timer.at;
        if (timer.every) timer.at += timer.every;
        else pending.delete(id);
        timer.fn();
        await settle();
      }
      t = end;
      await settle();
    },
  };
}

function fakeStorage() {
  const items = new Map();
  return {
    items,
    get length() {
      return items.size;
    },
    key: (i) => [...items.keys()][i] ?? null,
    getItem: (k) => (items.has(k) ? items.get(k) : null),
    setItem: (k, v) => void items.set(k, String(v)),
    removeItem: (k) => void items.delete(k),
    outboxes: () => [...items].filter(([k]) => k.includes(':outbox:')).map(([, v]) => JSON.parse(v)),
  };
}

class FakeDocument extends EventTarget {
  visibilityState = 'visible';
  cookie = '';
  focused = true;
  hasFocus() {
    return this.focused;
  }
  hide() {
    this.visibilityState = 'hidden';
    this.dispatchEvent(new Event('visibilitychange'));
  }
}

// Records every request; `respond(call, n)` decides the answer (default 201).
function fakeFetch(respond = () => 201) {
  const calls = [];
  const fetch = async (url, init) => {
    const call = { url, init, body: JSON.parse(init.body), key: init.headers.get('Idempotency-Key') };
    calls.push(call);
    const answer = await respond(call, calls.length);
    if (answer instanceof Response) return answer;
    return new Response('{}', { status: answer });
  };
  return { fetch, calls };
}

function setup(overrides = {}) {
  const clock = overrides.clock ?? fakeClock();
  const storage = overrides.storage ?? fakeStorage();
  const document = overrides.document ?? new FakeDocument();
  const window = overrides.window ?? new EventTarget();
  const net = overrides.net ?? fakeFetch(overrides.respond);
  const errors = [];
  const logger = createLogger({
    fetch: net.fetch,
    storage,
    now: clock.now,
    timers: clock,
    document,
    window,
    onError: (e) => errors.push(e),
    ...overrides.options,
  });
  return { logger, clock, storage, document, window, net, calls: net.calls, errors };
}

const payloadOf = (event) => JSON.parse(event.payload);

// ---- wire format --------------------------------------------------------------------------------

test('a flush posts the events in CVAT wire format with an Idempotency-Key', async () => {
  const { logger, clock, calls } = setup({ options: { context: { project_id: 1, task_id: 2, job_id: 3 } } });
  clock.advance(5);
  logger.log('load:job', { duration: 1234.4, obj_val: 7, payload: { size: 10 }, extra_field: 'x' });
  await logger.flush();

  assert.equal(calls.length, 1);
  const [{ url, init, body, key }] = calls;
  assert.equal(url, '/api/events');
  assert.equal(init.method, 'POST');
  assert.equal(init.credentials, 'same-origin');
  assert.equal(init.keepalive, false);
  assert.equal(init.headers.get('Content-Type'), 'application/json');
  assert.match(key, UUID);
  assert.deepEqual(Object.keys(body), ['events', 'previous_event', 'timestamp']);
  assert.equal(body.previous_event, null);
  assert.equal(body.timestamp, new Date(T0 + 5).toISOString());
  const [event] = body.events;
  assert.deepEqual({ ...event, payload: payloadOf(event) }, {
    scope: 'load:job',
    timestamp: new Date(T0 + 5).toISOString(),
    obj_val: '7',
    source: 'client',
    count: 1,
    duration: 1234,
    project_id: 1,
    task_id: 2,
    job_id: 3,
    payload: { size: 10, extra_field: 'x', client_id: logger.clientId, is_active: true },
  });
  assert.equal(typeof event.payload, 'string');
});

test('client_id is a 10-digit id kept in storage and is_active follows document focus', async () => {
  const storage = fakeStorage();
  const first = setup({ storage });
  assert.match(first.logger.clientId, /^\d{10}$/);
  first.document.focused = false;
  first.logger.log('load:cvat', { payload: '{"platform":"x"}' });
  await first.logger.flush();
  assert.deepEqual(payloadOf(first.calls[0].body.events[0]), {
    platform: 'x',
    client_id: first.logger.clientId,
    is_active: false,
  });
  first.logger.destroy();
  assert.equal(setup({ storage }).logger.clientId, first.logger.clientId);
});

test('setContext replaces the ids added to every later event', async () => {
  const { logger, calls } = setup({ options: { context: { project_id: 1, task_id: 2, job_id: 3 } } });
  logger.log('load:job');
  logger.setContext({ task_id: 9 });
  logger.log('load:job');
  logger.log('load:job', { job_id: 5 });
  await logger.flush();
  const ids = calls[0].body.events.map(({ project_id, task_id, job_id }) => ({ project_id, task_id, job_id }));
  assert.deepEqual(ids, [
    { project_id: 1, task_id: 2, job_id: 3 },
    { project_id: undefined, task_id: 9, job_id: undefined },
    { project_id: undefined, task_id: 9, job_id: 5 },
  ]);
});

test('CSRF token from the csrftoken cookie, X-Organization and extra headers are sent', async () => {
  const document = new FakeDocument();
  document.cookie = 'sessionid=abc; csrftoken=tok%3D123; other=1';
  const { logger, calls } = setup({
    document,
    options: { organization: 'acme', headers: { Authorization: 'Token t', 'Idempotency-Key': 'not-mine' } },
  });
  logger.log('load:job');
  await logger.flush();
  const { headers } = calls[0].init;
  assert.equal(headers.get('X-CSRFToken'), 'tok=123');
  assert.equal(headers.get('X-Organization'), 'acme');
  assert.equal(headers.get('Authorization'), 'Token t');
  assert.match(headers.get('Idempotency-Key'), UUID);
});

test('no CSRF or organization header without a cookie or an organization', async () => {
  const { logger, calls } = setup();
  logger.log('load:job');
  await logger.flush();
  assert.equal(calls[0].init.headers.get('X-CSRFToken'), null);
  assert.equal(calls[0].init.headers.get('X-Organization'), null);
});

test('events recorded before an organization switch are sent with the old organization', async () => {
  const { logger, calls } = setup({ options: { organization: 'acme' } });
  logger.log('load:job');
  logger.setOrganization('other');
  logger.log('load:job');
  await logger.flush();
  assert.deepEqual(
    calls.map((c) => [c.init.headers.get('X-Organization'), c.body.events.length]),
    [
      ['acme', 1],
      ['other', 1],
    ],
  );
});

// ---- change:frame merging -----------------------------------------------------------------------

test('consecutive change:frame of the same job and step merge into one event', async () => {
  const { logger, clock, calls } = setup({ options: { context: { job_id: 3 } } });
  logger.changeFrame({ from: 0, to: 1, step: 1 });
  await clock.advance(100);
  logger.canvasReady();
  await clock.advance(900);
  logger.changeFrame({ from: 1, to: 2, step: 1 });
  await clock.advance(300);
  logger.canvasReady();
  await logger.flush();

  const events = calls[0].body.events;
  assert.equal(events.length, 1);
  assert.equal(events[0].scope, 'change:frame');
  assert.equal(events[0].timestamp, new Date(T0).toISOString());
  assert.equal(events[0].count, 2);
  assert.equal(events[0].duration, 1300); // first frame change to last canvas-ready
  assert.equal(events[0].job_id, 3);
  assert.deepEqual(
    { ...payloadOf(events[0]), client_id: 0 },
    { from: 0, to: 2, step: 1, client_id: 0, is_active: true },
  );
});

test('a change:frame with a different step is not merged', async () => {
  const { logger, clock, calls } = setup({ options: { context: { job_id: 3 } } });
  logger.changeFrame({ from: 0, to: 1, step: 1 });
  await clock.advance(100);
  logger.canvasReady();
  logger.changeFrame({ from: 1, to: 11, step: 10 });
  await clock.advance(50);
  logger.canvasReady();
  await logger.flush();
  const events = calls[0].body.events;
  assert.deepEqual(
    events.map((e) => [e.count, e.duration, payloadOf(e).step]),
    [
      [1, 100, 1],
      [1, 50, 10],
    ],
  );
});

test('a change:frame in another job is not merged', async () => {
  const { logger, calls } = setup({ options: { context: { job_id: 3 } } });
  logger.changeFrame({ from: 0, to: 1, step: 1 });
  logger.canvasReady();
  logger.setContext({ job_id: 4 });
  logger.changeFrame({ from: 0, to: 1, step: 1 });
  logger.canvasReady();
  await logger.flush();
  assert.deepEqual(
    calls[0].body.events.map((e) => [e.job_id, e.count]),
    [
      [3, 1],
      [4, 1],
    ],
  );
});

test('another event between two frame changes ends the run', async () => {
  const { logger, calls } = setup({ options: { context: { job_id: 3 } } });
  logger.changeFrame({ from: 0, to: 1, step: 1 });
  logger.canvasReady();
  logger.log('zoom:image');
  logger.changeFrame({ from: 1, to: 2, step: 1 });
  logger.canvasReady();
  await logger.flush();
  assert.deepEqual(
    calls[0].body.events.map((e) => [e.scope, e.count]),
    [
      ['change:frame', 1],
      ['zoom:image', 1],
      ['change:frame', 1],
    ],
  );
});

test('a flush ends the run', async () => {
  const { logger, calls } = setup({ options: { context: { job_id: 3 } } });
  logger.changeFrame({ from: 0, to: 1, step: 1 });
  logger.canvasReady();
  await logger.save();
  logger.changeFrame({ from: 1, to: 2, step: 1 });
  logger.canvasReady();
  await logger.flush();
  assert.deepEqual(
    calls.map((c) => c.body.events.map((e) => [payloadOf(e).to, e.count])),
    [[[1, 1]], [[2, 1]]],
  );
});

test('a frame change is recorded only when the canvas is ready', async () => {
  const { logger, clock, calls } = setup();
  logger.changeFrame({ from: 4, to: 5 });
  await logger.flush();
  assert.equal(calls.length, 0);
  await clock.advance(40);
  logger.canvasReady();
  logger.canvasReady(); // nothing pending any more
  await logger.flush();
  assert.equal(calls[0].body.events.length, 1);
  assert.equal(calls[0].body.events[0].duration, 40);
  assert.equal(payloadOf(calls[0].body.events[0]).step, 1);
});

// ---- user:activity ------------------------------------------------------------------------------

test('user:activity is logged on keydown/click at most once per interval', async () => {
  const { logger, clock, document, calls } = setup({ options: { context: { job_id: 3 } } });
  document.dispatchEvent(new Event('keydown'));
  await clock.advance(1000);
  document.dispatchEvent(new Event('click'));
  await clock.advance(59_000);
  document.dispatchEvent(new Event('click'));
  await logger.flush();
  const events = calls[0].body.events;
  assert.deepEqual(
    events.map((e) => [e.scope, e.timestamp, e.job_id]),
    [
      ['user:activity', new Date(T0).toISOString(), 3],
      ['user:activity', new Date(T0 + 60_000).toISOString(), 3],
    ],
  );
});

test('user:activity is not logged while the page is hidden', async () => {
  const { logger, document, calls } = setup();
  document.visibilityState = 'hidden';
  document.dispatchEvent(new Event('keydown'));
  document.visibilityState = 'visible';
  await logger.flush();
  assert.equal(calls.length, 0);
  document.dispatchEvent(new Event('keydown'));
  await logger.flush();
  assert.equal(calls[0].body.events[0].scope, 'user:activity');
});

// ---- flush triggers -----------------------------------------------------------------------------

test('events are flushed every flushIntervalMs, and nothing is sent when there is nothing to send', async () => {
  const { logger, clock, calls } = setup();
  logger.log('load:job');
  await clock.advance(89_999);
  assert.equal(calls.length, 0);
  await clock.advance(1);
  assert.equal(calls.length, 1);
  await clock.advance(90_000);
  assert.equal(calls.length, 1);
});

test('a full batch is sent without waiting for the timer, and batches are capped', async () => {
  const { logger, calls } = setup({ options: { maxBatchSize: 3 } });
  for (let i = 0; i < 7; i += 1) logger.log('draw:object', { obj_id: i });
  await settle();
  assert.deepEqual(
    calls.map((c) => c.body.events.map((e) => e.obj_id)),
    [
      [0, 1, 2],
      [3, 4, 5],
    ],
  );
  await logger.flush();
  assert.deepEqual(calls[2].body.events.map((e) => e.obj_id), [6]);
});

test('one request is in flight at a time', async () => {
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  const { logger, calls } = setup({ respond: (call, n) => (n === 1 ? gate.then(() => 201) : 201) });
  logger.log('load:job');
  const first = logger.flush();
  logger.log('save:job');
  const second = logger.flush();
  await settle();
  assert.equal(calls.length, 1);
  release();
  await Promise.all([first, second]);
  assert.equal(calls.length, 2);
  assert.equal(calls[1].body.events[0].scope, 'save:job');
});

test('hiding the page flushes with keepalive requests that stay under 64 KiB in total', async () => {
  const { logger, document, calls, storage } = setup({ options: { maxBatchBytes: 8 * 1024 } });
  for (let i = 0; i < 400; i += 1) logger.log('draw:object', { obj_id: i, payload: { points: 'x'.repeat(200) } });
  document.hide();
  const sent = calls.length;
  assert.ok(sent > 1, 'split into several requests');
  assert.ok(calls.every((c) => c.init.keepalive === true));
  const total = calls.reduce((n, c) => n + Buffer.byteLength(c.init.body), 0);
  assert.ok(total <= KEEPALIVE_BUDGET_BYTES && total < 64 * 1024, `${total} bytes`);
  assert.equal(new Set(calls.map((c) => c.key)).size, sent);
  // each later request continues from the last event of the one before it
  assert.deepEqual(calls[1].body.previous_event, calls[0].body.events.at(-1));

  await settle(); // the first round is accepted; the rest follows in further keepalive rounds
  await logger.flush();
  const ids = calls.flatMap((c) => c.body.events.map((e) => e.obj_id));
  assert.deepEqual(ids, [...Array(400).keys()]);
  assert.deepEqual(storage.outboxes()[0].batches, []);
});

test('pagehide sends pending events with keepalive', async () => {
  const { logger, window, calls } = setup();
  logger.log('load:job');
  window.dispatchEvent(new Event('pagehide'));
  assert.equal(calls.length, 1, 'the request starts inside the pagehide handler');
  assert.equal(calls[0].init.keepalive, true);
});

// ---- persistence and retries ---------------------------------------------------------------------

test('a reload resends the in-flight batch with the same Idempotency-Key', async () => {
  const storage = fakeStorage();
  const clock = fakeClock();
  const before = setup({ storage, clock, respond: () => new Promise(() => {}) }); // never answers
  before.logger.log('load:job');
  before.logger.log('save:job');
  before.logger.flush();
  await settle();
  assert.equal(before.calls.length, 1);
  before.window.dispatchEvent(new Event('pagehide')); // the page goes away mid-request

  const after = setup({ storage, clock });
  assert.equal(after.calls.length, 0, 'waits for the old page to finish first');
  await clock.advance(3000);
  assert.equal(after.calls.length, 1);
  assert.equal(after.calls[0].key, before.calls[0].key);
  assert.deepEqual(after.calls[0].body.events, before.calls[0].body.events);
  assert.deepEqual(after.calls[0].body.previous_event, before.calls[0].body.previous_event);
  assert.equal(storage.outboxes().length, 1, 'the old outbox was adopted');
  assert.deepEqual(storage.outboxes()[0].batches, []);
  before.logger.destroy();
});

test('a reload keeps unsent events and the last accepted event', async () => {
  const storage = fakeStorage();
  const before = setup({ storage });
  before.logger.log('load:job');
  await before.logger.flush();
  before.logger.log('zoom:image');
  before.window.dispatchEvent(new Event('pagehide')); // keepalive request is sent...
  const [{ key }] = before.calls.slice(-1);

  const after = setup({ storage, respond: () => 201 }); // ...but its answer never reached the page
  await after.logger.flush();
  assert.equal(after.calls[0].key, key);
  assert.equal(after.calls[0].body.events[0].scope, 'zoom:image');
  assert.deepEqual(after.calls[0].body.previous_event, before.calls[0].body.events[0]);
  before.logger.destroy();
});

test('another tab does not take over a live tab outbox, but adopts it once it is stale', async () => {
  const storage = fakeStorage();
  const clock = fakeClock();
  const live = setup({ storage, clock, options: { flushIntervalMs: 0 } }); // stops heartbeating
  live.logger.log('load:job');
  const other = setup({ storage, clock });
  await other.logger.flush();
  assert.equal(other.calls.length, 0);
  await clock.advance(14 * 60_000);
  assert.equal(other.calls.length, 0);
  await clock.advance(3 * 60_000); // silent for more than staleAfterMs (15 min): presumed crashed
  assert.equal(other.calls.length, 1, 'adopted on the next periodic flush');
  assert.equal(other.calls[0].body.events[0].scope, 'load:job');
});

test('a page restored from the back/forward cache does not resend what another page adopted', async () => {
  const storage = fakeStorage();
  const clock = fakeClock();
  const old = setup({ storage, clock, respond: () => new Promise(() => {}) });
  old.logger.log('load:job');
  old.logger.flush();
  old.window.dispatchEvent(new Event('pagehide'));
  const next = setup({ storage, clock });
  await next.logger.flush();
  assert.equal(next.calls.length, 1);

  old.window.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }));
  old.logger.log('zoom:image');
  assert.deepEqual(
    storage.outboxes().flatMap((o) => [...o.queue, ...o.batches.flatMap((b) => b.events)]).map((e) => e.scope),
    ['zoom:image'],
    'load:job now belongs to the other page only',
  );
  old.logger.destroy();
});

test('events are still sent when storage is full, and onError says they are not persisted', async () => {
  const storage = fakeStorage();
  const { logger, calls, errors } = setup({ storage });
  storage.setItem = () => {
    throw new DOMException('quota', 'QuotaExceededError');
  };
  logger.log('load:job');
  logger.log('save:job');
  await logger.flush();
  assert.equal(calls[0].body.events.length, 2);
  assert.deepEqual(
    errors.map((e) => e.kind),
    ['storage'],
  );
});

test('a 503 is retried later with the same key, backing off exponentially', async () => {
  const { logger, clock, calls } = setup({ respond: (call, n) => (n <= 3 ? 503 : 201), options: { flushIntervalMs: 0 } });
  logger.log('load:job');
  await logger.flush();
  for (const base of [2000, 4000, 8000]) {
    const [retry] = clock.timers();
    const wait = retry.at - clock.now();
    assert.ok(wait >= base / 2 && wait <= base, `waits ${wait} ms, expected ${base / 2}-${base}`);
    const sent = calls.length;
    await clock.advance(wait - 1);
    assert.equal(calls.length, sent);
    await clock.advance(1);
    assert.equal(calls.length, sent + 1);
  }
  assert.equal(calls.length, 4);
  assert.equal(new Set(calls.map((c) => c.key)).size, 1);
  assert.equal(new Set(calls.map((c) => JSON.stringify(c.body.events))).size, 1);
  assert.notEqual(calls[0].body.timestamp, calls[3].body.timestamp, 'send time is fresh on each attempt');
  await clock.advance(60 * 60_000);
  assert.equal(calls.length, 4, 'accepted: not sent again');
});

test('the retry delay is capped at retryMaxMs', async () => {
  const { logger, clock, calls } = setup({ respond: () => 500, options: { retryMaxMs: 10_000, flushIntervalMs: 0 } });
  logger.log('load:job');
  await logger.flush();
  await clock.advance(60_000);
  const waits = clock.timers().map((timer) => timer.at - clock.now());
  assert.equal(waits.length, 1);
  assert.ok(waits[0] <= 10_000, `next retry in ${waits[0]} ms`);
});

test('429 honours Retry-After, and network errors and 408 are retried', async () => {
  const answers = [
    () => new Response('', { status: 429, headers: { 'Retry-After': '30' } }),
    () => Promise.reject(new TypeError('Failed to fetch')),
    () => 408,
    () => 201,
  ];
  const { logger, clock, calls, errors } = setup({ respond: (call, n) => answers[n - 1]() });
  logger.log('load:job');
  await logger.flush();
  await clock.advance(29_999);
  assert.equal(calls.length, 1);
  await clock.advance(1);
  assert.equal(calls.length, 2);
  await clock.advance(4000); // second delay: 2-4 s
  assert.equal(calls.length, 3);
  await clock.advance(8000); // third delay: 4-8 s
  assert.equal(calls.length, 4);
  assert.equal(new Set(calls.map((c) => c.key)).size, 1);
  assert.deepEqual(errors, []);
});

test('a 400 drops the batch, calls onError and is not retried', async () => {
  const { logger, clock, calls, errors, storage } = setup({
    respond: (call, n) => (n === 1 ? new Response('{"scope":"not allowed"}', { status: 400 }) : 201),
  });
  logger.log('bogus:scope');
  await logger.flush();
  assert.equal(errors.length, 1);
  assert.equal(errors[0].kind, 'rejected');
  assert.equal(errors[0].status, 400);
  assert.equal(errors[0].detail, '{"scope":"not allowed"}');
  assert.equal(errors[0].idempotencyKey, calls[0].key);
  assert.equal(errors[0].events[0].scope, 'bogus:scope');
  assert.deepEqual(storage.outboxes()[0].batches, []);
  await clock.advance(10 * 60_000);
  assert.equal(calls.length, 1);

  logger.log('load:job');
  await logger.flush();
  assert.equal(calls.length, 2);
  assert.equal(calls[1].body.previous_event, null, 'a rejected event is never a previous_event');
});

test('previous_event is the last event of the last accepted batch', async () => {
  const { logger, clock, calls } = setup({ respond: (call, n) => (n === 2 ? 503 : 201) });
  logger.log('load:job');
  logger.log('zoom:image');
  await logger.flush();
  logger.log('save:job');
  await logger.flush(); // 503
  await clock.advance(5000); // retried and accepted
  logger.log('fit:image');
  await logger.flush();
  assert.equal(calls.length, 4);
  assert.equal(calls[0].body.previous_event, null);
  assert.deepEqual(calls[1].body.previous_event, calls[0].body.events[1]);
  assert.deepEqual(calls[2].body.previous_event, calls[0].body.events[1], 'a retry repeats the same body');
  assert.deepEqual(calls[3].body.previous_event, calls[2].body.events[0]);
});

test('destroy removes listeners and timers', async () => {
  const { logger, clock, document, window, calls } = setup();
  logger.log('load:job');
  logger.destroy();
  assert.deepEqual(clock.timers(), []);
  document.dispatchEvent(new Event('keydown'));
  document.hide();
  window.dispatchEvent(new Event('pagehide'));
  logger.log('load:job');
  await clock.advance(10 * 60_000);
  assert.equal(calls.length, 0);
});

test('the number of stored events is bounded', async () => {
  const { logger, errors, storage } = setup({ respond: () => 503, options: { maxStoredEvents: 5, maxBatchSize: 2 } });
  for (let i = 0; i < 8; i += 1) logger.log('draw:object', { obj_id: i });
  await settle();
  const [outbox] = storage.outboxes();
  const stored = [...outbox.batches.flatMap((b) => b.events), ...outbox.queue];
  assert.ok(stored.length <= 5);
  assert.equal(stored.at(-1).obj_id, 7, 'the newest events are kept');
  assert.ok(errors.some((e) => e.kind === 'overflow'));
});

test('load:cvat carries the browser and OS, as CVAT clients send them', async () => {
  const original = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', {
    configurable: true,
    value: { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36', language: 'en-US' },
  });
  try {
    const sent = [];
    const logger = createLogger({
      fetch: async (url, init) => { sent.push(JSON.parse(init.body)); return new Response('{}', { status: 201 }); },
      storage: fakeStorage(), trackActivity: false, document: null, window: null,
    });
    logger.log('load:cvat');
    await logger.flush();
    const payload = JSON.parse(sent[0].events[0].payload);
    assert.deepEqual(payload.platform, { name: 'Chrome', version: '156', os: 'Linux', language: 'en-US' });
    logger.destroy();
  } finally {
    if (original) Object.defineProperty(globalThis, 'navigator', original);
    else delete globalThis.navigator;
  }
});
