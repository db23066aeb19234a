/**
 * Proof that the Smart-UPS simulator is faithful: a REAL apcupsd 3.14.14 (Smart driver,
 * private config, log-only apccontrol) reads it through a socat pty and reports the SU420's
 * values over NIS, and follows a simulated mains failure with the alert characters a real
 * unit sends. Then our own source reads the same simulator, and both readings, mapped to
 * the normalized state, agree.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/core/clock.ts';
import type { UpsData } from '../../src/core/state.ts';
import { createApcSmartSource } from '../../src/sources/apcsmart/source.ts';
import { mapNisStatus } from '../../src/sources/nis/map.ts';
import { parseStatusLines } from '../../src/sources/nis/parse.ts';
import { nisRequest } from '../helpers/apcupsd.ts';
import { pollUntil } from '../helpers/ports.ts';
import { ProcessRegistry } from '../helpers/process.ts';
import { type SmartApcupsd, startSmartApcupsd } from '../helpers/smart-ups-sim/apcupsd-smart.ts';
import { SmartUpsSimulator } from '../helpers/smart-ups-sim/simulator.ts';
import { captureLogger } from '../unit/apcsmart/fakes.ts';

describe('a real apcupsd reads the Smart-UPS simulator', () => {
  const registry = new ProcessRegistry();
  let sim: SmartUpsSimulator;
  let apcupsd: SmartApcupsd;

  before(async () => {
    sim = await SmartUpsSimulator.start({ registry });
    apcupsd = registry.track(await startSmartApcupsd({ device: sim.devicePath, registry }));
  });
  after(() => registry.stopAll());

  test('NIS shows the SU420 as apcupsd decoded it', async () => {
    const s = await apcupsd.status();
    assert.equal(s.get('DRIVER'), 'APC Smart UPS (any)');
    assert.equal(s.get('MODEL'), 'SMART-UPS 420   ');
    assert.equal(s.get('SERIALNO'), 'NS9847001053');
    assert.equal(s.get('FIRMWARE'), '21.3.I');
    assert.equal(s.get('STATUS'), 'ONLINE ');
    assert.equal(s.get('STATFLAG'), '0x05000008');
    assert.equal(s.get('LINEV'), '231.8 Volts');
    assert.equal(s.get('BCHARGE'), '100.0 Percent');
    assert.equal(s.get('TIMELEFT'), '42.0 Minutes');
    assert.equal(s.get('BATTV'), '13.6 Volts');
    assert.equal(s.get('LINEFREQ'), '50.0 Hz');
    assert.equal(s.get('SENSE'), 'High');
    assert.equal(s.get('DSHUTD'), '20 Seconds');
    assert.equal(s.get('SELFTEST'), 'OK');
    assert.equal(s.get('LASTXFER'), 'Automatic or explicit self test');
    // apcupsd's start-up began with Y and asked for the protocol info before anything else.
    assert.match(sim.receivedText(), /^YYa/);
    assert.deepEqual(sim.model.violations, []);
  });

  test('mains failure: ONBATT on NIS at once (the ! alert), ONLINE again after $', async () => {
    const t0 = performance.now();
    sim.model.failMains();
    const onBatt = await pollUntil(
      async () => ((await apcupsd.status()).get('STATUS')?.startsWith('ONBATT') ? true : undefined),
      5000,
      { intervalMs: 10, what: 'ONBATT on NIS' },
    );
    assert.ok(onBatt);
    const ms = performance.now() - t0;
    console.log(`apcupsd showed ONBATT ${ms.toFixed(1)} ms after the simulated ! alert`);
    const s = await apcupsd.status();
    assert.equal(s.get('LINEV'), '0.0 Volts');
    assert.equal(s.get('LASTXFER'), 'Low line voltage');
    sim.model.restoreMains();
    await pollUntil(
      async () => ((await apcupsd.status()).get('STATUS') === 'ONLINE ' ? true : undefined),
      5000,
      { intervalMs: 10, what: 'ONLINE on NIS' },
    );
    assert.equal((await apcupsd.status()).get('LINEV'), '231.8 Volts');
  });

  test('our source and apcupsd map the same unit to the same state', async () => {
    const lines = (await nisRequest(apcupsd.nisPort, 'status')).map((l) => l.replace(/\n$/, ''));
    const viaNis = mapNisStatus(parseStatusLines(lines)).data;
    await apcupsd.stop(); // frees the port for our source
    const source = createApcSmartSource(
      { kind: 'apcsmart', path: sim.devicePath },
      { logger: captureLogger().logger, clock: systemClock },
    );
    registry.track({ stop: () => source.close() });
    await source.open();
    const direct = (await source.read(new AbortController().signal)).data;
    const shared: (keyof UpsData)[] = [
      'model',
      'serial_number',
      'firmware',
      'online',
      'on_battery',
      'low_battery',
      'replace_battery',
      'input_voltage_v',
      'output_voltage_v',
      'load_pct',
      'battery_charge_pct',
      'runtime_s',
      'input_frequency_hz',
      'transfer_low_v',
      'transfer_high_v',
      'shutdown_delay_s',
      'wake_delay_s',
      'low_battery_warning_s',
      'restart_charge_pct',
      'sensitivity',
      'alarm_mode',
      'self_test_interval',
      'self_test_result',
      'last_transfer_reason',
      'manufacture_date',
      'battery_date',
      'output_voltage_nominal_v',
      'battery_voltage_nominal_v',
    ];
    for (const key of shared) {
      assert.notEqual(direct[key], undefined, `${key} read directly`);
      assert.deepEqual(direct[key], viaNis[key], key);
    }
    // apcupsd rounds the battery voltage to one decimal; the wire says 13.61.
    assert.equal(viaNis.battery_voltage_v, 13.6);
    assert.equal(direct.battery_voltage_v, 13.61);
  });
});
