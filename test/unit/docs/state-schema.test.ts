import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { buildState, reducedState } from '../../../src/bridge/state.ts';
import { ManualClock } from '../../../src/core/clock.ts';
import { STATE_FIELDS, stateJsonSchema } from '../../../src/core/fields.ts';
import { mapNisStatus } from '../../../src/sources/nis/map.ts';
import { parseStatusLines } from '../../../src/sources/nis/parse.ts';
import { createSimSource } from '../../../src/sources/sim/source.ts';
import { captureLogger } from '../bridge/fakes.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const schema = JSON.parse(readFileSync(`${root}schema/state.schema.json`, 'utf8')) as Record<
  string,
  unknown
>;
const ajv = new Ajv2020({ strict: false, allErrors: true });
const validate = ajv.compile(schema);
const at = new Date('2026-11-21T10:00:00Z');

describe('state JSON Schema', () => {
  it('is the one generated from src/core/fields.ts, and the docs are fresh', () => {
    assert.deepEqual(schema, stateJsonSchema());
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', `${root}scripts/gen-docs.ts`, '--check'],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
  });

  const fixtures = readdirSync(`${root}test/fixtures/nis`).filter((f) => f.endsWith('.txt'));
  for (const file of fixtures) {
    it(`accepts the state built from ${file}`, () => {
      const lines = readFileSync(`${root}test/fixtures/nis/${file}`, 'utf8').split('\n');
      const { data } = mapNisStatus(parseStatusLines(lines));
      const state = buildState(data, at);
      assert.ok(validate(state), JSON.stringify(validate.errors));
      for (const key of Object.keys(state)) assert.ok(key in STATE_FIELDS, key);
    });
  }

  it('accepts the reduced comm-lost state and a simulated UPS state', async () => {
    assert.ok(
      validate(reducedState({ model: 'X', serial_number: 'Y', battery_charge_pct: 50 }, at)),
    );
    const src = createSimSource(
      { model: 'default', params: {} },
      { clock: new ManualClock(at.getTime()), logger: captureLogger().logger },
    );
    await src.open();
    const reading = await src.read(new AbortController().signal);
    await src.close();
    const state = buildState(reading.data, at);
    assert.ok(validate(state), JSON.stringify(validate.errors));
  });

  it('rejects what consumers must never see', () => {
    assert.equal(
      validate({ status: 'ONLINE', updated_at: '2026-11-21T10:00:00Z' }),
      false,
      'raw apcupsd word',
    );
    assert.equal(
      validate({ status: 'online', updated_at: '2026-11-21 10:00:00 +0100' }),
      false,
      'apcupsd time format',
    );
    assert.equal(
      validate({ status: 'online', updated_at: '2026-11-21T10:00:00Z', battery_charge_pct: '100' }),
      false,
      'number as text',
    );
    assert.equal(
      validate({ status: 'online', updated_at: '2026-11-21T10:00:00Z', BCHARGE: 100 }),
      false,
      'unknown key',
    );
  });
});
