import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventType, UpsEvent } from '../../../src/core/events.ts';
import {
  classifyEventMessage,
  EventLogTracker,
  parseEventLine,
} from '../../../src/sources/nis/events.ts';

describe('parseEventLine (docs/protocols/nis.md#event-log)', () => {
  const rows: [string, { at: string; message: string } | undefined][] = [
    [
      '2026-11-21 04:45:47 +0000  apcupsd 3.14.14 (31 May 2016) debian startup succeeded',
      {
        at: '2026-11-21T04:45:47+00:00',
        message: 'apcupsd 3.14.14 (31 May 2016) debian startup succeeded',
      },
    ],
    [
      '2026-11-21 04:46:22 +0100  Communications with UPS lost.',
      { at: '2026-11-21T04:46:22+01:00', message: 'Communications with UPS lost.' },
    ],
    [
      '2024-03-02 14:05:11 -0500  UPS Self Test completed: Battery OK  ',
      { at: '2024-03-02T14:05:11-05:00', message: 'UPS Self Test completed: Battery OK' },
    ],
    [
      'Sun Jun 05 20:49:18 PDT 2005  Power failure.',
      { at: '2005-06-05T20:49:18-07:00', message: 'Power failure.' },
    ],
    ['Sun Jun 05 20:49:18 XYZT 2005  Power failure.', undefined],
    ['2026-11-21 04:45:47 +0000  ', undefined],
    ['', undefined],
    ['Power failure.', undefined],
  ];
  for (const [line, expected] of rows) {
    it(JSON.stringify(line), () => {
      assert.deepEqual(parseEventLine(line), expected);
    });
  }
});

describe('classifyEventMessage (3.14.14 catalogue)', () => {
  const rows: [string, EventType][] = [
    ['Power failure.', 'power_lost'],
    ['Running on UPS batteries.', 'on_battery'],
    ['Power is back. UPS running on mains.', 'power_restored'],
    ['Mains returned. No longer on UPS batteries.', 'power_restored'],
    ['Battery power exhausted.', 'low_battery'],
    ['Reached run time limit on batteries.', 'low_battery'],
    ['Battery charge below low limit.', 'low_battery'],
    ['Reached remaining time percentage limit on batteries.', 'low_battery'],
    ['Initiating system shutdown!', 'shutdown_initiated'],
    ['Remote shutdown requested.', 'shutdown_initiated'],
    ['UPS Self Test switch to battery.', 'self_test_started'],
    ['UPS Self Test completed.', 'self_test_completed'],
    [
      'UPS Self Test completed: Test failed -- insufficient battery capacity',
      'self_test_completed',
    ],
    ['Communications with UPS lost.', 'comm_lost'],
    ['Communications with UPS restored.', 'comm_restored'],
    ['UPS battery must be replaced.', 'replace_battery'],
    ['Battery disconnected.', 'battery_disconnected'],
    ['Battery reattached.', 'battery_reattached'],
    ['apcupsd 3.14.14 (31 May 2016) debian startup succeeded', 'daemon_started'],
    ['apcupsd exiting, signal 15', 'daemon_stopped'],
    ['apcupsd shutdown succeeded', 'daemon_stopped'],
    ['Users requested to logoff.', 'other'],
    ['Battery failure. Emergency.', 'other'],
    ['User logins prohibited', 'other'],
    ['Allowing logins', 'other'],
    ['Something new in 3.15', 'other'],
  ];
  for (const [message, type] of rows) {
    it(`${JSON.stringify(message)} → ${type}`, () => {
      assert.equal(classifyEventMessage(message), type);
    });
  }
});

/** A log line at 2026-11-21 10:MM:SS +0000. */
function line(minute: number, second: number, message: string): string {
  const mm = String(minute).padStart(2, '0');
  const ss = String(second).padStart(2, '0');
  return `2026-11-21 10:${mm}:${ss} +0000  ${message}`;
}

function summary(events: UpsEvent[]): string[] {
  return events.map(
    (e) => `${e.at.slice(11, 19)} ${e.event_type}${e.during_self_test ? ' (test)' : ''}`,
  );
}

/** The last ≤ 50 lines of a growing log, as apcupsd's `events` reply (docs/protocols/nis.md#event-log). */
function window(log: readonly string[]): string[] {
  return log.slice(-50);
}

describe('EventLogTracker', () => {
  const history = [
    line(0, 0, 'apcupsd 3.14.14 (31 May 2016) debian startup succeeded'),
    line(1, 0, 'Power failure.'),
    line(1, 6, 'Running on UPS batteries.'),
    line(2, 0, 'Mains returned. No longer on UPS batteries.'),
    line(2, 0, 'Power is back. UPS running on mains.'),
  ];

  it('returns nothing on the first fetch: history is not replayed', () => {
    const t = new EventLogTracker();
    assert.deepEqual(t.ingest(history, { initial: true }), []);
  });

  it('returns only new lines on later fetches, each once, with origin and message', () => {
    const t = new EventLogTracker();
    t.ingest(history, { initial: true });
    assert.deepEqual(t.ingest(history, { initial: false }), []);
    const log = [...history, line(3, 0, 'Communications with UPS lost.')];
    assert.deepEqual(t.ingest(log, { initial: false }), [
      {
        event_type: 'comm_lost',
        at: '2026-11-21T10:03:00+00:00',
        message: 'Communications with UPS lost.',
        origin: 'source_log',
      },
    ]);
    assert.deepEqual(t.ingest(log, { initial: false }), []);
  });

  it('after a reconnect, delivers what happened meanwhile, once and in order', () => {
    const t = new EventLogTracker();
    t.ingest(history, { initial: true });
    const log = [
      ...history,
      line(5, 0, 'Power failure.'),
      line(5, 6, 'Running on UPS batteries.'),
      line(9, 0, 'Battery charge below low limit.'),
      line(9, 0, 'Initiating system shutdown!'),
      line(9, 1, 'User logins prohibited'),
    ];
    assert.deepEqual(summary(t.ingest(log, { initial: false })), [
      '10:05:00 power_lost',
      '10:05:06 on_battery',
      '10:09:00 low_battery',
      '10:09:00 shutdown_initiated',
      '10:09:01 other',
    ]);
    assert.deepEqual(t.ingest(log, { initial: false }), []);
  });

  it('counts identical lines with the same timestamp instead of collapsing them', () => {
    const t = new EventLogTracker();
    const flap = line(4, 0, 'Communications with UPS lost.');
    t.ingest([...history, flap], { initial: true });
    // The same line logged again within the same second is a new event.
    assert.deepEqual(summary(t.ingest([...history, flap, flap], { initial: false })), [
      '10:04:00 comm_lost',
    ]);
    assert.deepEqual(t.ingest([...history, flap, flap], { initial: false }), []);
    assert.deepEqual(summary(t.ingest([...history, flap, flap, flap, flap], { initial: false })), [
      '10:04:00 comm_lost',
      '10:04:00 comm_lost',
    ]);
  });

  it('does not deliver lines older than the newest one seen', () => {
    const t = new EventLogTracker();
    t.ingest(history, { initial: true });
    const inserted = [line(0, 30, 'Battery disconnected.'), ...history];
    assert.deepEqual(t.ingest(inserted, { initial: false }), []);
  });

  it('survives window overflow: when more than 50 lines were logged, the visible ones come once', () => {
    const t = new EventLogTracker();
    const log = [...history];
    t.ingest(window(log), { initial: true });
    for (let i = 0; i < 60; i++) {
      log.push(
        line(
          10 + Math.floor(i / 30),
          i % 30,
          i % 2 === 0 ? 'Power failure.' : 'Power is back. UPS running on mains.',
        ),
      );
    }
    const first = t.ingest(window(log), { initial: false });
    assert.equal(first.length, 50, 'the 50 visible new lines; 10 fell off the window');
    assert.equal(first[0]?.at, '2026-11-21T10:10:10+00:00');
    assert.deepEqual(t.ingest(window(log), { initial: false }), []);
    log.push(line(30, 0, 'Communications with UPS restored.'));
    assert.deepEqual(summary(t.ingest(window(log), { initial: false })), [
      '10:30:00 comm_restored',
    ]);
  });

  it('an empty first fetch is a baseline too: every later line is new', () => {
    const t = new EventLogTracker();
    assert.deepEqual(t.ingest([], { initial: true }), []);
    assert.equal(t.ingest(history, { initial: false }).length, history.length);
  });

  it('skips lines it cannot date and keeps going', () => {
    const t = new EventLogTracker();
    t.ingest(history, { initial: true });
    const log = [...history, 'garbage', '', line(6, 0, 'Battery reattached.')];
    assert.deepEqual(summary(t.ingest(log, { initial: false })), ['10:06:00 battery_reattached']);
  });

  it('marks on_battery/power_lost between self-test start and completion', () => {
    const t = new EventLogTracker();
    t.ingest(history, { initial: true });
    const log = [
      ...history,
      line(7, 0, 'UPS Self Test switch to battery.'),
      line(7, 41, 'Running on UPS batteries.'),
      line(7, 50, 'UPS Self Test completed: Battery OK'),
      line(8, 0, 'Power failure.'),
    ];
    assert.deepEqual(summary(t.ingest(log, { initial: false })), [
      '10:07:00 self_test_started',
      '10:07:41 on_battery (test)',
      '10:07:50 self_test_completed',
      '10:08:00 power_lost',
    ]);
  });

  it('remembers a self-test that was running when the baseline was taken', () => {
    const t = new EventLogTracker();
    const log = [...history, line(7, 0, 'UPS Self Test switch to battery.')];
    t.ingest(log, { initial: true });
    log.push(line(7, 41, 'Running on UPS batteries.'));
    assert.deepEqual(summary(t.ingest(log, { initial: false })), ['10:07:41 on_battery (test)']);
  });

  it('ends the self-test window when mains return without a completion line', () => {
    const t = new EventLogTracker();
    t.ingest(history, { initial: true });
    const log = [
      ...history,
      line(7, 0, 'UPS Self Test switch to battery.'),
      line(7, 45, 'Power is back. UPS running on mains.'),
      line(8, 0, 'Power failure.'),
    ];
    assert.deepEqual(summary(t.ingest(log, { initial: false })), [
      '10:07:00 self_test_started',
      '10:07:45 power_restored',
      '10:08:00 power_lost',
    ]);
  });

  it('orders by instant, not by text: offsets are compared as times', () => {
    const t = new EventLogTracker();
    t.ingest(['2026-11-21 11:00:00 +0100  Power failure.'], { initial: true });
    // 10:00:30 +0000 is 30 s after 11:00:00 +0100.
    const events = t.ingest(
      [
        '2026-11-21 11:00:00 +0100  Power failure.',
        '2026-11-21 10:00:30 +0000  Running on UPS batteries.',
      ],
      { initial: false },
    );
    assert.deepEqual(
      events.map((e) => e.event_type),
      ['on_battery'],
    );
  });
});
