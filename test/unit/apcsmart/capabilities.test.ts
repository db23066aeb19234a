import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyAlerts, followEpisode, markSelfTest } from '../../../src/sources/apcsmart/alerts.ts';
import {
  POLL_LETTERS,
  parseProtocolInfo,
  STATIC_LETTERS,
  supportedCommands,
  supportedLetters,
} from '../../../src/sources/apcsmart/capabilities.ts';

/** The SU420's `a` reply (transcript) with the DEL that NUT's log of the unit shows. */
const SU420_A = "3.!$%+?=#|.\x01\x0e\x1a')+-89@ABDEFGKLMNOPQRSUVWXYZabcdefgjklmnopqrsuxyz~\x7f";

describe('parseProtocolInfo', () => {
  it('splits the SU420 reply into version, alerts and command bytes', () => {
    const info = parseProtocolInfo(SU420_A);
    assert.ok(info);
    assert.equal(info.version, '3');
    assert.equal(info.alerts, '!$%+?=#|');
    assert.equal(info.commands.size, 54);
    assert.ok(info.commands.has('\x7f') && info.commands.has('\x0e') && info.commands.has('@'));
    assert.ok(!info.commands.has('C'), 'no temperature on this unit');
  });

  const rows: { name: string; reply: string; ok: boolean; extra?: string }[] = [
    {
      name: 'fourth section (SPM dual-byte commands)',
      reply: '3.!$.ABQ.xy',
      ok: true,
      extra: 'xy',
    },
    { name: 'alert glued in front (read raw)', reply: '!3.!$.ABQ', ok: true },
    { name: 'empty alert section', reply: '2..QfY', ok: true },
    { name: 'no command section', reply: '3.!$.', ok: false },
    { name: 'not the documented shape', reply: 'SMART-UPS 700', ok: false },
    { name: 'NA-like garbage', reply: 'NA', ok: false },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const info = parseProtocolInfo(r.reply);
      assert.equal(info !== undefined, r.ok);
      if (r.extra !== undefined) assert.equal(info?.extra, r.extra);
    });
  }
});

describe('what the SU420 gets asked and offers', () => {
  const info = parseProtocolInfo(SU420_A);
  it('polls only listed letters, status first', () => {
    assert.deepEqual(supportedLetters(POLL_LETTERS, info), [
      'Q',
      'f',
      'j',
      'L',
      'O',
      'P',
      'B',
      'F',
      'M',
      'N',
      'G',
      'X',
      '~',
      "'",
      '8',
    ]);
    assert.deepEqual(supportedLetters(STATIC_LETTERS, info).join(''), 'nmxcgolueprqksE');
  });
  it('without `a` every letter is tried', () => {
    assert.deepEqual(supportedLetters(POLL_LETTERS, undefined), POLL_LETTERS);
  });
  it('commands need every byte they send', () => {
    const noDel = parseProtocolInfo('3.!$.WAUDS@KZ\x0ek-');
    assert.ok(noDel);
    const names = supportedCommands(noDel);
    assert.ok(!names.includes('shutdown.stop'), 'no DEL, no cancel');
    assert.ok(names.includes('shutdown.return'));
    assert.deepEqual(supportedCommands(parseProtocolInfo('3.!$.WS')), [
      'test.battery.start.quick',
      'test.battery.stop',
    ]);
    assert.deepEqual(supportedCommands(undefined), []);
  });
});

describe('alerts and running tests', () => {
  const online = { online: true, on_battery: false, discharging: false, low_battery: false };
  const rows: { alerts: string; expect: Record<string, boolean> }[] = [
    { alerts: '!', expect: { online: false, on_battery: true, discharging: true } },
    { alerts: '!$', expect: { online: true, on_battery: false } },
    { alerts: '%', expect: { low_battery: true } },
    { alerts: '%+', expect: { low_battery: false } },
    { alerts: '?', expect: { overload: true } },
    { alerts: '?=', expect: { overload: false } },
    { alerts: '#', expect: { replace_battery: true } },
    { alerts: '*&|', expect: online },
  ];
  for (const r of rows) {
    it(`alerts ${r.alerts}`, () => {
      const out = applyAlerts(online, [...r.alerts] as Parameters<typeof applyAlerts>[1]);
      for (const [k, v] of Object.entries(r.expect)) assert.equal(out[k as keyof typeof out], v, k);
    });
  }

  it('a started test runs until the unit is back on line after being on battery', () => {
    let ep = followEpisode({ startedAt: 0, sawBattery: false }, false, 1000);
    assert.ok(ep, 'not yet on battery: still starting');
    ep = followEpisode(ep, true, 2000);
    assert.equal(ep?.sawBattery, true);
    assert.equal(followEpisode(ep, false, 9000), undefined, 'back on line: over');
    assert.equal(
      followEpisode({ startedAt: 0, sawBattery: false }, false, 30_001),
      undefined,
      'never started',
    );
  });

  it('markSelfTest: in progress while ours runs; otherwise on battery + self-test transfer', () => {
    assert.equal(
      markSelfTest({ self_test_result: 'passed' }, { startedAt: 0, sawBattery: true })
        .self_test_result,
      'in_progress',
    );
    const selfTest = { on_battery: true, last_transfer_reason: 'Automatic or explicit self test' };
    assert.equal(markSelfTest(selfTest, undefined).test_in_progress, true);
    assert.equal(
      markSelfTest({ ...selfTest, last_transfer_reason: 'Low line voltage' }, undefined)
        .test_in_progress,
      false,
    );
  });
});
