// The page's number and time formatting (node --test; run by tests/test_dashboards_ui_js.py).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { toCsv } from '../src/csv.js';
import {
  formatTick, formatValue, fromWallClock, humanDuration, periodStarts, timeTicks, wallClock,
} from '../src/format.js';

const NOW = Date.parse('2026-12-05T16:34:27Z');
const HOUR = 3600e3;
const DAY = 24 * HOUR;

test('durations read as hours, minutes and seconds', () => {
  assert.equal(humanDuration(295_000), '4 min 55 s');
  assert.equal(humanDuration(82_250), '1 min 22 s');
  assert.equal(humanDuration(4 * HOUR + 5 * 60e3), '4 h 5 min');
  assert.equal(humanDuration(850), '850 ms');
  assert.equal(formatValue(0.08, 'h'), '4 min 48 s');
  assert.equal(formatValue(66.666, 'percent'), '66.7%');
  assert.equal(formatTick(0.5, 'h'), '30 min');
});

test('ticks land on round times, each label once', () => {
  const lastHour = timeTicks(NOW - HOUR, NOW, 'utc');
  assert.deepEqual(lastHour.map((t) => t.label), ['15:40', '15:50', '16:00', '16:10', '16:20', '16:30']);
  for (const [span, tz] of [[HOUR, 'utc'], [DAY, 'America/New_York'], [7 * DAY, 'Europe/Berlin'], [30 * DAY, 'utc']]) {
    const ticks = timeTicks(NOW - span, NOW, tz);
    assert.ok(ticks.length >= 3 && ticks.length <= 8, `${span} ${tz}: ${ticks.length} ticks`);
    assert.equal(new Set(ticks.map((t) => t.label)).size, ticks.length, `${span} ${tz}: a label twice`);
    assert.ok(ticks.every((t) => t.value >= NOW - span && t.value <= NOW));
  }
  assert.deepEqual(timeTicks(NOW - 7 * DAY, NOW, 'Europe/Berlin').map((t) => new Date(t.value).toISOString().slice(11, 16)),
    Array(7).fill('23:00'));
});

test('calendar periods start at local midnights, Mondays and firsts of the month', () => {
  const days = periodStarts(NOW - 7 * DAY, NOW, 86400, 'Asia/Kolkata');
  assert.equal(days.length, 8);
  assert.ok(days.every((t) => new Date(t).toISOString().endsWith('T18:30:00.000Z')));
  const weeks = periodStarts(NOW - 90 * DAY, NOW, 604800, 'utc');
  assert.ok(weeks.every((t) => new Date(t).getUTCDay() === 1));
  const months = periodStarts(NOW - 200 * DAY, NOW, 2592000, 'utc');
  assert.ok(months.every((t) => new Date(t).getUTCDate() === 1));
});

test('CSV quotes what needs quoting and keeps raw values', () => {
  const csv = toCsv({ columns: [{ name: 'User' }, { name: 'Hours' }], rows: [['a, "b"', 1.5], [null, 0]] });
  assert.equal(csv, 'User,Hours\r\n"a, ""b""",1.5\r\n,0\r\n');
});

test('custom range inputs are wall-clock times of the timezone', () => {
  assert.equal(wallClock(NOW, 'utc'), '2026-12-05T16:34');
  assert.equal(wallClock(NOW, 'Asia/Kolkata'), '2026-12-05T22:04');
  for (const tz of ['utc', 'Asia/Kolkata', 'America/Adak', 'Europe/Berlin']) {
    const minute = Math.floor(NOW / 60e3) * 60e3;
    assert.equal(fromWallClock(wallClock(minute, tz), tz), minute, tz);
  }
});
