import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUps2MqttError } from '../../../src/core/errors.ts';
import { defaultSerial, parseSimParams, resolveProfile } from '../../../src/sources/sim/params.ts';
import { parseSourceUri } from '../../../src/sources/uri.ts';

function fromUri(uri: string): ReturnType<typeof parseSimParams> {
  const spec = parseSourceUri(uri);
  assert.equal(spec.kind, 'sim');
  if (spec.kind !== 'sim') throw new Error('unreachable');
  return parseSimParams(spec);
}

describe('sim params: defaults and profiles', () => {
  it('sim:// is a Smart-UPS 1500 class unit on 230 V at 18 % load, full, real time', () => {
    const s = fromUri('sim://');
    assert.deepEqual(s.config, {
      model: 'Smart-UPS 1500 (simulated)',
      serial: defaultSerial('Smart-UPS 1500 (simulated)'),
      nominalPowerW: 1000,
      nominalApparentVa: 1500,
      batteryCapacityWh: 200,
      batteryNominalV: 24,
      mains: 230,
      loadDriftPct: 1.5,
      failAtMs: null,
      restoreAtMs: null,
    });
    assert.deepEqual(
      [s.initial.chargePct, s.initial.loadPct, s.speed, s.unreachable],
      [100, 18, 1, null],
    );
  });

  it('the default serial is SIM + 9 digits, stable and distinct per model name', () => {
    const a = defaultSerial('Smart-UPS 1500 (simulated)');
    assert.match(a, /^SIM\d{9}$/);
    assert.equal(a, defaultSerial('Smart-UPS 1500 (simulated)'));
    assert.notEqual(a, defaultSerial('rack-b (simulated)'));
  });

  const profiles: Array<[string, string, number]> = [
    ['default', 'Smart-UPS 1500 (simulated)', 1000],
    ['smart-ups-1500', 'Smart-UPS 1500 (simulated)', 1000],
    ['Back-UPS 700', 'Back-UPS 700 (simulated)', 405],
    ['back-ups-700', 'Back-UPS 700 (simulated)', 405],
    ['rack-b', 'rack-b (simulated)', 1000],
  ];
  for (const [name, model, watts] of profiles) {
    it(`model name "${name}" → ${model}`, () => {
      const p = resolveProfile(name);
      assert.deepEqual([p.model, p.nominalPowerW], [model, watts]);
    });
  }

  it('a percent-encoded name is decoded', () => {
    assert.equal(fromUri('sim://rack%20b').config.model, 'rack b (simulated)');
  });

  it('every parameter is read', () => {
    const s = fromUri(
      'sim://?serial=ABC123&nominal_w=600&battery_wh=90&load=40&load_drift=0&charge=55&speed=10&seed=5&mains=120&fail_at=3&restore_at=6&unreachable=yes',
    );
    assert.deepEqual(s, {
      config: {
        model: 'Smart-UPS 1500 (simulated)',
        serial: 'ABC123',
        nominalPowerW: 600,
        nominalApparentVa: 900,
        batteryCapacityWh: 90,
        batteryNominalV: 24,
        mains: 120,
        loadDriftPct: 0,
        failAtMs: 30_000,
        restoreAtMs: 60_000,
      },
      initial: { chargePct: 55, loadPct: 40, seed: 5 },
      speed: 10,
      unreachable: true,
    });
  });
});

describe('sim params: mistakes are SOURCE_URI_INVALID and name the parameter', () => {
  const rows: Array<[string, string]> = [
    ['sim://?lod=50', 'unknown parameter "lod"'],
    ['sim://?load=abc', 'load="abc" must be a number from 0 to 150'],
    ['sim://?load=', 'load="" must be a number'],
    ['sim://?charge=101', 'charge="101" must be a number from 0 to 100'],
    ['sim://?speed=0', 'speed="0" must be a number'],
    ['sim://?mains=110', 'mains="110" must be 230 or 120'],
    ['sim://?seed=1.5', 'seed must be a whole number'],
    ['sim://?seed=-1', 'seed="-1" must be a number'],
    ['sim://?serial=', 'serial must not be empty'],
    ['sim://?restore_at=10', 'restore_at needs fail_at'],
    ['sim://?fail_at=10&restore_at=10', 'restore_at needs fail_at and must be later'],
    ['sim://?unreachable=maybe', 'unreachable="maybe" must be true or false'],
    ['sim://bad%zz', 'not valid percent-encoding'],
  ];
  for (const [uri, text] of rows) {
    it(uri, () => {
      assert.throws(
        () => fromUri(uri),
        (err) => isUps2MqttError(err, 'SOURCE_URI_INVALID') && err.message.includes(text),
      );
    });
  }
});
