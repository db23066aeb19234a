import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { slugify } from '../../../src/core/state.ts';
import { buildDeviceDiscovery } from '../../../src/ha/discovery.ts';
import { ENTITIES, NOT_DISCOVERED } from '../../../src/ha/entities.ts';
import type { EntityDef } from '../../../src/ha/entity-def.ts';
import { everyField, smartUpsInput, smartUpsRt1000 } from './samples.ts';

const rows: readonly EntityDef[] = ENTITIES;

/**
 * HA core apcupsd's entities (docs/homeassistant.md#parity-with-the-core-apcupsd-integration) and what ups2mqtt offers for each:
 * our cmps key, device class, unit, diagnostic category and default-enabled. `note` marks
 * a deliberate difference from core.
 */
interface Parity {
  key: string;
  platform?: 'binary_sensor';
  dc?: string;
  unit?: string;
  diagnostic: boolean;
  enabled: boolean;
  note?: string;
}
const T =
  'timestamp instead of text (docs/homeassistant.md#parity-with-the-core-apcupsd-integration parity notes)';
const S = 'fixed unit s instead of a runtime-inferred one';
const CORE: Readonly<Record<string, Parity>> = {
  alarmdel: { key: 'alarmdel', diagnostic: true, enabled: true },
  ambtemp: { key: 'ambtemp', dc: 'temperature', unit: '°C', diagnostic: false, enabled: true },
  apc: { key: 'apc', diagnostic: true, enabled: false },
  apcmodel: { key: 'model', diagnostic: true, enabled: false, note: 'one model field' },
  badbatts: { key: 'badbatts', diagnostic: true, enabled: true },
  battdate: { key: 'battdate', diagnostic: false, enabled: true },
  battstat: { key: 'battstat', diagnostic: false, enabled: true },
  battv: { key: 'battv', dc: 'voltage', unit: 'V', diagnostic: false, enabled: true },
  bcharge: { key: 'bcharge', dc: 'battery', unit: '%', diagnostic: false, enabled: true },
  cable: { key: 'cable', diagnostic: true, enabled: false },
  cumonbatt: { key: 'cumonbatt', dc: 'duration', unit: 's', diagnostic: false, enabled: true },
  date: { key: 'date', dc: 'timestamp', diagnostic: true, enabled: false, note: T },
  dipsw: { key: 'dipsw', diagnostic: true, enabled: true },
  dlowbatt: {
    key: 'dlowbatt',
    dc: 'duration',
    unit: 's',
    diagnostic: true,
    enabled: true,
    note: S,
  },
  driver: { key: 'driver', diagnostic: true, enabled: false },
  dshutd: { key: 'dshutd', dc: 'duration', unit: 's', diagnostic: true, enabled: true, note: S },
  dwake: { key: 'dwake', dc: 'duration', unit: 's', diagnostic: true, enabled: true, note: S },
  'end apc': { key: 'end_apc', dc: 'timestamp', diagnostic: true, enabled: false, note: T },
  extbatts: { key: 'extbatts', diagnostic: true, enabled: true },
  firmware: { key: 'firmware', diagnostic: true, enabled: false },
  hitrans: { key: 'hitrans', dc: 'voltage', unit: 'V', diagnostic: true, enabled: true },
  hostname: { key: 'hostname', diagnostic: true, enabled: false },
  humidity: { key: 'humidity', dc: 'humidity', unit: '%', diagnostic: false, enabled: true },
  itemp: { key: 'itemp', dc: 'temperature', unit: '°C', diagnostic: false, enabled: true },
  laststest: { key: 'laststest', dc: 'timestamp', diagnostic: false, enabled: true, note: T },
  lastxfer: { key: 'lastxfer', diagnostic: true, enabled: false },
  linefail: { key: 'linefail', diagnostic: true, enabled: true },
  linefreq: { key: 'linefreq', dc: 'frequency', unit: 'Hz', diagnostic: false, enabled: true },
  linev: { key: 'linev', dc: 'voltage', unit: 'V', diagnostic: false, enabled: true },
  loadpct: { key: 'loadpct', unit: '%', diagnostic: false, enabled: true },
  loadapnt: { key: 'loadapnt', unit: '%', diagnostic: false, enabled: true },
  lotrans: { key: 'lotrans', dc: 'voltage', unit: 'V', diagnostic: true, enabled: true },
  mandate: { key: 'mandate', diagnostic: true, enabled: false },
  masterupd: { key: 'masterupd', dc: 'timestamp', diagnostic: true, enabled: true, note: T },
  maxlinev: { key: 'maxlinev', dc: 'voltage', unit: 'V', diagnostic: false, enabled: true },
  maxtime: { key: 'maxtime', dc: 'duration', unit: 's', diagnostic: true, enabled: true, note: S },
  mbattchg: { key: 'mbattchg', unit: '%', diagnostic: true, enabled: true },
  minlinev: { key: 'minlinev', dc: 'voltage', unit: 'V', diagnostic: false, enabled: true },
  mintimel: {
    key: 'mintimel',
    dc: 'duration',
    unit: 's',
    diagnostic: true,
    enabled: true,
    note: S,
  },
  model: { key: 'model', diagnostic: true, enabled: false },
  nombattv: { key: 'nombattv', dc: 'voltage', unit: 'V', diagnostic: true, enabled: true },
  nominv: { key: 'nominv', dc: 'voltage', unit: 'V', diagnostic: true, enabled: true },
  nomoutv: { key: 'nomoutv', dc: 'voltage', unit: 'V', diagnostic: true, enabled: true },
  nompower: { key: 'nompower', dc: 'power', unit: 'W', diagnostic: true, enabled: true },
  nomapnt: { key: 'nomapnt', dc: 'apparent_power', unit: 'VA', diagnostic: true, enabled: true },
  numxfers: { key: 'numxfers', diagnostic: false, enabled: true },
  outcurnt: { key: 'outcurnt', dc: 'current', unit: 'A', diagnostic: false, enabled: true },
  outputv: { key: 'outputv', dc: 'voltage', unit: 'V', diagnostic: false, enabled: true },
  reg1: { key: 'reg1', diagnostic: true, enabled: false },
  reg2: { key: 'reg2', diagnostic: true, enabled: false },
  reg3: { key: 'reg3', diagnostic: true, enabled: false },
  retpct: { key: 'retpct', unit: '%', diagnostic: true, enabled: true },
  selftest: { key: 'selftest', dc: 'enum', diagnostic: false, enabled: true, note: 'enum' },
  sense: { key: 'sense', dc: 'enum', diagnostic: true, enabled: false, note: 'enum' },
  serialno: { key: 'serialno', diagnostic: true, enabled: false },
  starttime: { key: 'starttime', dc: 'timestamp', diagnostic: true, enabled: true, note: T },
  statflag: { key: 'statflag', diagnostic: true, enabled: false },
  status: { key: 'status', dc: 'enum', diagnostic: false, enabled: true, note: 'closed enum' },
  stesti: { key: 'stesti', diagnostic: true, enabled: true },
  timeleft: {
    key: 'timeleft',
    dc: 'duration',
    unit: 's',
    diagnostic: false,
    enabled: true,
    note: S,
  },
  tonbatt: { key: 'tonbatt', dc: 'duration', unit: 's', diagnostic: false, enabled: true },
  upsmode: { key: 'upsmode', diagnostic: true, enabled: true },
  upsname: { key: 'upsname', diagnostic: true, enabled: false },
  version: { key: 'version', diagnostic: true, enabled: false },
  xoffbat: { key: 'xoffbatt', dc: 'timestamp', diagnostic: true, enabled: true, note: T },
  xoffbatt: { key: 'xoffbatt', dc: 'timestamp', diagnostic: true, enabled: true, note: T },
  xonbatt: { key: 'xonbatt', dc: 'timestamp', diagnostic: true, enabled: true, note: T },
};
/** Core's one binary sensor, "Online status" (key statflag), ON when STATFLAG & 0x08. */
const CORE_BINARY: Parity = {
  key: 'online',
  platform: 'binary_sensor',
  dc: 'power',
  diagnostic: false,
  enabled: true,
  note: 'key online (statflag is the raw sensor), class power',
};

function rowByKey(key: string): EntityDef {
  const row = rows.find((r) => r.key === key);
  assert.ok(row, `no row with key ${key}`);
  return row;
}

function assertParity(coreKey: string, p: Parity, row: EntityDef): void {
  const where = `${coreKey} → ${p.key}`;
  assert.equal(row.platform, p.platform ?? 'sensor', where);
  assert.equal(row.device_class, p.dc, `${where}: device class`);
  assert.equal(row.unit, p.unit, `${where}: unit`);
  assert.equal(row.category === 'diagnostic', p.diagnostic, `${where}: category`);
  assert.equal(row.enabled !== false, p.enabled, `${where}: enabled by default`);
}

/** The keys of an apcaccess status text, lower-cased like core's sensor keys. */
function nisKeys(file: string): string[] {
  const text = readFileSync(new URL(`../../fixtures/nis/${file}`, import.meta.url), 'latin1');
  return text
    .split('\n')
    .map((line) => line.split(':')[0]?.trim().toLowerCase() ?? '')
    .filter((k) => k !== '');
}

describe('entity table', () => {
  it('has unique, stable-looking cmps keys and one row per field', () => {
    const keys = rows.map((r) => r.key);
    assert.equal(new Set(keys).size, keys.length);
    for (const k of keys) assert.match(k, /^[a-z0-9]+(?:_[a-z0-9]+)*$/, k);
    const fields = rows.map((r) => r.field);
    assert.equal(new Set(fields).size, fields.length);
    assert.ok(!keys.includes('event'), 'event is the event entity key');
  });

  it('covers every state key exactly once: discovered or excluded with a reason', () => {
    // Every key of UpsState, read off a value whose type requires all of them.
    const all = Object.keys(everyField).sort();
    const covered = [...rows.map((r) => r.field), ...Object.keys(NOT_DISCOVERED)].sort();
    assert.deepEqual(covered, all);
    for (const reason of Object.values(NOT_DISCOVERED)) assert.ok(reason.length > 20);
  });

  it('gives every entity a distinct default entity id per platform', () => {
    for (const platform of ['sensor', 'binary_sensor']) {
      const slugs = rows
        .filter((r) => r.platform === platform)
        .map((r) => slugify(r.name ?? r.field));
      assert.equal(new Set(slugs).size, slugs.length, platform);
    }
  });

  it('names fields so that value_json.<field> reads the key, not a dict method', () => {
    for (const r of rows) {
      assert.match(r.field, /^[a-z][a-z0-9_]*$/);
      assert.ok(!['items', 'keys', 'values', 'get', 'update', 'copy', 'pop'].includes(r.field));
    }
  });

  it('puts units in the field name where the row has a unit', () => {
    const suffix: Record<string, string> = {
      V: '_v',
      A: '_a',
      Hz: '_hz',
      W: '_w',
      VA: '_va',
      '°C': '_c',
      '%': '_pct',
      s: '_s',
      kWh: '_kwh',
    };
    for (const r of rows) {
      if (r.unit === undefined) continue;
      assert.ok(r.field.endsWith(suffix[r.unit] ?? '?'), `${r.field} has unit ${r.unit}`);
    }
  });

  it('uses enum options equal to the closed sets of the state model', () => {
    assert.deepEqual(rowByKey('status').options, [
      'online',
      'on_battery',
      'low_battery',
      'calibrating',
      'overload',
      'output_off',
      'comm_lost',
      'shutting_down',
      'other',
    ]);
    assert.deepEqual(rowByKey('sense').options, ['low', 'medium', 'high', 'auto']);
    assert.equal(rowByKey('selftest').options?.length, 9);
  });

  it('never offers an option named like Home Assistant\'s own "no value" states', () => {
    // HA shows `unknown` and `unavailable` for an entity without a value; an option with the
    // same word would make "the UPS said unknown" look like "no value" (docs/homeassistant.md#sensors).
    for (const r of rows) {
      for (const o of r.options ?? []) {
        assert.notEqual(o, 'unknown', r.key);
        assert.notEqual(o, 'unavailable', r.key);
      }
    }
  });

  it('chooses state classes per docs/homeassistant.md#sensors/docs/homeassistant.md#sensors', () => {
    assert.equal(rowByKey('numxfers').state_class, 'total_increasing');
    assert.equal(rowByKey('cumonbatt').state_class, 'total_increasing');
    // TONBATT drops to 0 when mains returns: a gauge, not a running total.
    assert.equal(rowByKey('tonbatt').state_class, 'measurement');
    for (const r of rows) {
      if (r.device_class === 'timestamp' || r.device_class === 'enum') {
        assert.equal(r.state_class, undefined, r.key);
        assert.equal(r.unit, undefined, r.key);
      }
    }
  });

  it('marks only status, shutdown_state and comm_lost as bridge-only', () => {
    assert.deepEqual(
      rows.filter((r) => r.bridgeOnly).map((r) => r.key),
      ['status', 'shutdown_state', 'comm_lost'],
    );
  });
});

describe('parity with HA core apcupsd (docs/homeassistant.md#parity-with-the-core-apcupsd-integration)', () => {
  for (const [coreKey, p] of Object.entries(CORE)) {
    it(`${coreKey} has a matching entity`, () => assertParity(coreKey, p, rowByKey(p.key)));
  }

  it('Online status binary sensor has a matching entity', () => {
    assertParity('statflag (binary)', CORE_BINARY, rowByKey('online'));
  });

  it('every core entity the Smart-UPS fixture reports is discovered with core key', () => {
    const keys = nisKeys('apcupsd-3.14.14-smart-ups-rt-1000-xl-apcsmart-online.txt');
    const { payload } = buildDeviceDiscovery(smartUpsInput(smartUpsRt1000));
    const matched: string[] = [];
    for (const k of keys) {
      const p = CORE[k];
      if (p === undefined) continue;
      const c = payload.cmps[p.key];
      assert.ok(c, `fixture key ${k} → no component ${p.key}`);
      assert.equal(c.p, 'sensor');
      assert.equal(c.dev_cla, p.dc, `${k}: device class`);
      assert.equal(c.unit_of_meas, p.unit, `${k}: unit`);
      assert.equal(c.ent_cat === 'diagnostic', p.diagnostic, `${k}: category`);
      assert.equal(c.en !== false, p.enabled, `${k}: enabled`);
      matched.push(k);
    }
    // Every key of this fixture is one core has an entity for, so all must match; XOFFBATT
    // is "N/A" (absent) there and is matched through the NIS sticky list.
    assert.equal(
      matched.length,
      keys.length,
      `unmatched: ${keys.filter((k) => !matched.includes(k))}`,
    );
    assert.equal(payload.cmps.online?.dev_cla, 'power');
  });

  it('every core entity of HA core test MOCK_STATUS has a row', () => {
    const mock = JSON.parse(
      readFileSync(
        new URL(
          '../../fixtures/nis/home-assistant-mock-status-back-ups-es-600.json',
          import.meta.url,
        ),
        'utf8',
      ),
    ) as Record<string, string>;
    const missing = Object.keys(mock)
      .map((k) => k.toLowerCase())
      .filter((k) => CORE[k] === undefined || !rows.some((r) => r.key === CORE[k]?.key));
    assert.deepEqual(missing, []);
  });
});
