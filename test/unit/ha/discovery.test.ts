import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isUps2MqttError } from '../../../src/core/errors.ts';
import { EVENT_TYPES } from '../../../src/core/events.ts';
import type { UpsState } from '../../../src/core/state.ts';
import {
  buildDeviceDiscovery,
  type DiscoveryInput,
  type DiscoveryMessage,
  stableStringify,
} from '../../../src/ha/discovery.ts';
import { ENTITIES, NOT_DISCOVERED } from '../../../src/ha/entities.ts';
import { discoveryTopic } from '../../../src/mqtt/topics.ts';
import {
  checkRenderedStates,
  renderTemplate,
  type ValidateOptions,
  validateDiscovery,
  validateDiscoverySet,
} from '../../helpers/ha-validator.ts';
import {
  backUpsInput,
  backUpsXs1400u,
  commLostInput,
  commLostReduced,
  everyField,
  smartUpsInput,
  smartUpsRt1000,
} from './samples.ts';

const PUBLISHED_KEYS = [...ENTITIES.map((e) => e.field), ...Object.keys(NOT_DISCOVERED)];
const OPTS: ValidateOptions = {
  baseTopic: 'ups2mqtt',
  bridgeAvailabilityTopic: 'ups2mqtt/bridge/state',
  publishedKeys: PUBLISHED_KEYS,
  retainedTopics: ['ups2mqtt/office/state', 'ups2mqtt/rack/state', 'ups2mqtt/lab/state'],
};

function everyFieldInput(): DiscoveryInput {
  const base = smartUpsInput(everyField);
  return { ...base, upsId: 'lab', device: { ...base.device, identifier: 'ups2mqtt_lab' } };
}

const CASES: { golden: string; input: () => DiscoveryInput; state: UpsState }[] = [
  { golden: 'office-back-ups-xs-1400u', input: () => backUpsInput(), state: backUpsXs1400u },
  { golden: 'rack-smart-ups-rt-1000-xl', input: () => smartUpsInput(), state: smartUpsRt1000 },
  { golden: 'office-comm-lost', input: commLostInput, state: commLostReduced },
];

function goldenPath(name: string): URL {
  return new URL(`../../golden/ha/${name}.json`, import.meta.url);
}

/**
 * Golden files are compared in canonical form (stableStringify of the parsed file), so the
 * formatter may lay the file out as it likes while the published bytes stay pinned.
 * `UPDATE_GOLDEN=1` rewrites them; run `npx biome format --write test/golden/ha` after.
 */
function assertGolden(name: string, msg: DiscoveryMessage): void {
  if (process.env.UPDATE_GOLDEN === '1') {
    writeFileSync(goldenPath(name), `${stableStringify(msg, 2)}\n`);
    return;
  }
  const expected = JSON.parse(readFileSync(goldenPath(name), 'utf8')) as unknown;
  assert.equal(stableStringify(msg), stableStringify(expected));
}

describe('buildDeviceDiscovery: realistic UPSes', () => {
  for (const c of CASES) {
    it(`${c.golden}: passes the validator`, () => {
      const msg = buildDeviceDiscovery(c.input());
      assert.deepEqual(validateDiscovery(msg.topic, stableStringify(msg.payload), OPTS), []);
    });

    it(`${c.golden}: matches the golden file`, () => {
      assertGolden(c.golden, buildDeviceDiscovery(c.input()));
    });

    it(`${c.golden}: every template renders what HA accepts for its own state`, () => {
      const msg = buildDeviceDiscovery(c.input());
      assert.deepEqual(checkRenderedStates(msg.payload, JSON.stringify(c.state)), []);
    });
  }

  it('the three UPS payloads together keep ids and identifiers unique', () => {
    const msgs = [backUpsInput(), smartUpsInput(), everyFieldInput()].map(buildDeviceDiscovery);
    assert.deepEqual(validateDiscoverySet(msgs, OPTS), []);
  });

  it('publishes to the device topic with the fixed root', () => {
    const { topic, payload } = buildDeviceDiscovery(backUpsInput());
    assert.equal(topic, 'homeassistant/device/ups2mqtt_office/config');
    assert.deepEqual(payload.dev, {
      ids: ['ups2mqtt_4b1948p07984'],
      name: 'apcupsdMqtt',
      mf: 'APC',
      mdl: 'Back-UPS XS 1400U',
      sn: '4B1948P07984',
      sw: 'apcupsd 3.14.14 (31 May 2016) debian',
      hw: '926.T2 .I USB FW:T2',
    });
    assert.deepEqual(payload.o, {
      name: 'ups2mqtt',
      sw: '0.1.0',
      url: 'https://example.invalid/ups2mqtt',
    });
    assert.deepEqual(payload.avty, [
      { t: 'ups2mqtt/bridge/state' },
      { t: 'ups2mqtt/office/availability' },
    ]);
    assert.equal(payload.avty_mode, 'all');
    assert.equal(payload.stat_t, 'ups2mqtt/office/state');
    // QoS sits on each component: HA before May 2026 does not inherit a root `qos`.
    assert.equal('qos' in payload, false);
    for (const [key, c] of Object.entries(payload.cmps)) assert.equal(c.qos, 1, key);
  });

  it('fills the device block like the core integration: firmware as hw, daemon as sw', () => {
    const { payload } = buildDeviceDiscovery(smartUpsInput());
    assert.deepEqual(payload.dev, {
      ids: ['ups2mqtt_qs1143231718'],
      name: 'UPS_IDEN',
      mf: 'APC',
      mdl: 'Smart-UPS RT 1000 XL',
      mdl_id: 'SMART',
      sn: 'QS1143231718',
      sw: 'apcupsd 3.14.14 (31 May 2016) freebsd',
      hw: '411.8.I',
      cu: 'http://192.0.2.10:1551/',
    });
  });

  describe('on the oldest supported Home Assistant (2024.11)', () => {
    const OLD: ValidateOptions = { ...OPTS, haVersion: '2024.11', expectQos: 1 };
    for (const c of CASES) {
      it(`${c.golden}: valid under 2024.11 rules, every entity at QoS 1`, () => {
        const msg = buildDeviceDiscovery(c.input());
        assert.deepEqual(validateDiscovery(msg.topic, stableStringify(msg.payload), OLD), []);
      });
    }

    it('the validator catches a root-only qos under 2024.11 but not under current rules', () => {
      const msg = buildDeviceDiscovery(backUpsInput());
      const p = JSON.parse(stableStringify(msg.payload)) as {
        qos?: number;
        cmps: Record<string, { qos?: number }>;
      };
      p.qos = 1;
      for (const c of Object.values(p.cmps)) delete c.qos;
      const old = validateDiscovery(msg.topic, JSON.stringify(p), OLD);
      assert.ok(old.length > 0 && old.every((e) => e.startsWith('[qos.effective]')), old[0]);
      assert.deepEqual(
        validateDiscovery(msg.topic, JSON.stringify(p), { ...OPTS, expectQos: 1 }),
        [],
      );
    });
  });

  it('emits exact component configs', () => {
    const { cmps } = buildDeviceDiscovery(backUpsInput()).payload;
    assert.deepEqual(cmps.linev, {
      p: 'sensor',
      uniq_id: 'ups2mqtt_4b1948p07984_linev',
      def_ent_id: 'sensor.office_input_voltage',
      name: 'Input voltage',
      val_tpl:
        "{{ value_json.input_voltage_v if value_json.input_voltage_v is defined else 'None' }}",
      dev_cla: 'voltage',
      unit_of_meas: 'V',
      stat_cla: 'measurement',
      sug_dsp_prc: 1,
      qos: 1,
    });
    // No name key at all: HA then uses the translated device-class name "Battery".
    assert.deepEqual(cmps.bcharge, {
      p: 'sensor',
      uniq_id: 'ups2mqtt_4b1948p07984_bcharge',
      def_ent_id: 'sensor.office_battery_charge_pct',
      val_tpl:
        "{{ value_json.battery_charge_pct if value_json.battery_charge_pct is defined else 'None' }}",
      dev_cla: 'battery',
      unit_of_meas: '%',
      stat_cla: 'measurement',
      sug_dsp_prc: 0,
      qos: 1,
    });
    assert.deepEqual(cmps.online, {
      p: 'binary_sensor',
      uniq_id: 'ups2mqtt_4b1948p07984_online',
      def_ent_id: 'binary_sensor.office_online_status',
      name: 'Online status',
      val_tpl:
        "{{ ('ON' if value_json.online else 'OFF') if value_json.online is defined else 'None' }}",
      dev_cla: 'power',
      qos: 1,
    });
    assert.deepEqual(cmps.sense, {
      p: 'sensor',
      uniq_id: 'ups2mqtt_4b1948p07984_sense',
      def_ent_id: 'sensor.office_sensitivity',
      name: 'Sensitivity',
      val_tpl: "{{ value_json.sensitivity if value_json.sensitivity is defined else 'None' }}",
      dev_cla: 'enum',
      ops: ['low', 'medium', 'high', 'auto'],
      ent_cat: 'diagnostic',
      en: false,
      qos: 1,
    });
    assert.equal(cmps.itemp, undefined, 'the Back-UPS reports no ITEMP');
  });

  it('emits the event entity with every event type and no device class', () => {
    const { cmps } = buildDeviceDiscovery(backUpsInput()).payload;
    assert.deepEqual(cmps.event, {
      p: 'event',
      uniq_id: 'ups2mqtt_4b1948p07984_event',
      def_ent_id: 'event.office_event',
      name: 'Event',
      stat_t: 'ups2mqtt/office/event',
      evt_typ: [...EVENT_TYPES],
      qos: 1,
      avty: [{ t: 'ups2mqtt/bridge/state' }],
      avty_mode: 'all',
    });
  });
});

describe('buildDeviceDiscovery: which components exist', () => {
  it('discovers exactly the present and sticky fields', () => {
    const { payload } = buildDeviceDiscovery(backUpsInput());
    const expected = ENTITIES.filter(
      (e) =>
        (backUpsXs1400u as unknown as Record<string, unknown>)[e.field] !== undefined ||
        ['last_on_battery_at', 'last_off_battery_at', 'last_self_test_at'].includes(e.field),
    ).map((e) => e.key);
    assert.deepEqual(Object.keys(payload.cmps), [...expected, 'event']);
    for (const sticky of ['xonbatt', 'xoffbatt', 'laststest']) assert.ok(payload.cmps[sticky]);
  });

  it('discovers every row for a state holding every key', () => {
    const { payload, skipped } = buildDeviceDiscovery(everyFieldInput());
    assert.deepEqual(Object.keys(payload.cmps), [...ENTITIES.map((e) => e.key), 'event']);
    assert.deepEqual(skipped, [
      { field: 'discharging', reason: NOT_DISCOVERED.discharging },
      { field: 'manufacturer', reason: NOT_DISCOVERED.manufacturer },
    ]);
  });

  it('reports fields without a row, including unknown runtime keys and sticky ones', () => {
    const state = { ...backUpsXs1400u, mystery_v: 1 } as UpsState;
    const input = { ...backUpsInput(state), stickyFields: ['also_unknown' as 'model'] };
    const { skipped, payload } = buildDeviceDiscovery(input);
    assert.deepEqual(skipped, [
      { field: 'also_unknown', reason: 'no entity is defined for this field' },
      { field: 'discharging', reason: NOT_DISCOVERED.discharging },
      { field: 'manufacturer', reason: NOT_DISCOVERED.manufacturer },
      { field: 'mystery_v', reason: 'no entity is defined for this field' },
    ]);
    assert.equal(payload.cmps.mystery_v, undefined);
  });

  it('comm-lost reduced state: sticky entities exist and render unknown', () => {
    const { payload } = buildDeviceDiscovery(commLostInput());
    assert.deepEqual(Object.keys(payload.cmps).sort(), [
      'bcharge',
      'comm_lost',
      'event',
      'last_update',
      'laststest',
      'linev',
      'loadpct',
      'low_battery',
      'model',
      'on_battery',
      'online',
      'serialno',
      'status',
      'timeleft',
      'upsname',
      'xoffbatt',
      'xonbatt',
    ]);
    const json = JSON.stringify(commLostReduced);
    const render = (key: string) => renderTemplate(payload.cmps[key]?.val_tpl ?? '', json);
    assert.equal(render('status'), 'comm_lost');
    assert.equal(render('comm_lost'), 'ON');
    assert.equal(render('bcharge'), 'None');
    assert.equal(render('online'), 'None');
    assert.equal(render('xonbatt'), 'None');
    assert.equal(render('last_update'), '2022-11-13T11:45:02+01:00');
  });
});

describe('buildDeviceDiscovery: templates', () => {
  it('renders every row of the full state to the published value', () => {
    const { payload } = buildDeviceDiscovery(everyFieldInput());
    const json = JSON.stringify(everyField);
    const values = everyField as unknown as Record<string, unknown>;
    for (const e of ENTITIES) {
      const out = renderTemplate(payload.cmps[e.key]?.val_tpl ?? '', json);
      const v = values[e.field];
      const expected = typeof v === 'boolean' ? (v ? 'ON' : 'OFF') : String(v);
      assert.equal(out, expected, e.key);
    }
    assert.deepEqual(checkRenderedStates(payload, json), []);
  });

  it('renders None for every measurement of the reduced comm-lost state', () => {
    const { payload } = buildDeviceDiscovery(everyFieldInput());
    const json = JSON.stringify(commLostReduced);
    assert.deepEqual(checkRenderedStates(payload, json), []);
    const present = new Set(Object.keys(commLostReduced));
    for (const e of ENTITIES) {
      if (present.has(e.field)) continue;
      assert.equal(renderTemplate(payload.cmps[e.key]?.val_tpl ?? '', json), 'None', e.key);
    }
  });

  it('renders false flags as OFF, not None', () => {
    const { payload } = buildDeviceDiscovery(backUpsInput());
    const out = renderTemplate(
      payload.cmps.overload?.val_tpl ?? '',
      JSON.stringify(backUpsXs1400u),
    );
    assert.equal(out, 'OFF');
  });
});

describe('buildDeviceDiscovery: availability', () => {
  it('status, shutdown_state, comm_lost and the event entity follow only the bridge', () => {
    const { payload } = buildDeviceDiscovery(everyFieldInput());
    const own = Object.entries(payload.cmps)
      .filter(([, c]) => c.avty !== undefined)
      .map(([k, c]) => [k, c.avty, c.avty_mode]);
    assert.deepEqual(own, [
      ['status', [{ t: 'ups2mqtt/bridge/state' }], 'all'],
      ['shutdown_state', [{ t: 'ups2mqtt/bridge/state' }], 'all'],
      ['comm_lost', [{ t: 'ups2mqtt/bridge/state' }], 'all'],
      ['event', [{ t: 'ups2mqtt/bridge/state' }], 'all'],
    ]);
  });
});

describe('buildDeviceDiscovery: extra and removed components', () => {
  const button = {
    p: 'button' as const,
    uniq_id: 'ups2mqtt_4b1948p07984_selftest_start',
    def_ent_id: 'button.office_run_battery_self_test',
    name: 'Run battery self-test',
    ent_cat: 'diagnostic' as const,
    cmd_t: 'ups2mqtt/office/command/test.battery.start.quick',
    ret: false,
  };

  it('passes extra components through unchanged', () => {
    const input = { ...backUpsInput(), extraComponents: { selftest_start: button } };
    const msg = buildDeviceDiscovery(input);
    assert.deepEqual(msg.payload.cmps.selftest_start, button);
    assert.deepEqual(validateDiscovery(msg.topic, msg.payload, OPTS), []);
  });

  it('refuses an extra component that would replace a built-in one', () => {
    const input = { ...backUpsInput(), extraComponents: { linev: button } };
    assert.throws(
      () => buildDeviceDiscovery(input),
      (e) => isUps2MqttError(e, 'CONFIG_INVALID'),
    );
  });

  it('turns removed components into {p} stubs, but never removes a live one', () => {
    const input = {
      ...backUpsInput(),
      removedComponents: { itemp: 'sensor', shutdown: 'button', linev: 'sensor' },
    };
    const msg = buildDeviceDiscovery(input);
    assert.deepEqual(msg.payload.cmps.itemp, { p: 'sensor' });
    assert.deepEqual(msg.payload.cmps.shutdown, { p: 'button' });
    assert.equal(msg.payload.cmps.linev?.uniq_id, 'ups2mqtt_4b1948p07984_linev');
    assert.deepEqual(validateDiscovery(msg.topic, msg.payload, OPTS), []);
  });

  it('refuses a removal stub with an unknown platform', () => {
    const input = { ...backUpsInput(), removedComponents: { itemp: 'light' } };
    assert.throws(
      () => buildDeviceDiscovery(input),
      (e) => isUps2MqttError(e, 'CONFIG_INVALID'),
    );
  });
});

describe('buildDeviceDiscovery: determinism and input checks', () => {
  it('gives identical bytes for the same data assembled in another order', () => {
    const a = buildDeviceDiscovery(backUpsInput());
    const reversed = Object.fromEntries(Object.entries(backUpsXs1400u).reverse()) as UpsState;
    const b = buildDeviceDiscovery({
      ...backUpsInput(reversed),
      stickyFields: ['last_self_test_at', 'last_off_battery_at', 'last_on_battery_at'],
    });
    assert.equal(stableStringify(a.payload), stableStringify(b.payload));
    assert.equal(stableStringify(a), stableStringify(buildDeviceDiscovery(backUpsInput())));
  });

  it('changes the bytes when a field appears', () => {
    const a = buildDeviceDiscovery(backUpsInput());
    const b = buildDeviceDiscovery(backUpsInput({ ...backUpsXs1400u, internal_temp_c: 30 }));
    assert.notEqual(stableStringify(a.payload), stableStringify(b.payload));
  });

  it('omits device keys that were not given and adds via_device when given', () => {
    const base = backUpsInput();
    const msg = buildDeviceDiscovery({
      ...base,
      device: { identifier: 'ups2mqtt_x', name: 'UPS', viaDevice: 'ups2mqtt_bridge' },
    });
    assert.deepEqual(msg.payload.dev, {
      ids: ['ups2mqtt_x'],
      name: 'UPS',
      via_device: 'ups2mqtt_bridge',
    });
  });

  const bad: [string, Partial<DiscoveryInput>][] = [
    ['upper-case ups id', { upsId: 'Office' }],
    ['ups id with a slash', { upsId: 'a/b' }],
    ['ups id without letters or digits', { upsId: '_-_' }],
    ['ups id "bridge" (would share the bridge LWT topic)', { upsId: 'bridge' }],
    ['wildcard in the base topic', { baseTopic: 'ups2mqtt/#' }],
    ['empty discovery prefix', { discoveryPrefix: '' }],
    ['trailing slash in the base topic', { baseTopic: 'ups2mqtt/' }],
  ];
  for (const [name, patch] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(
        () => buildDeviceDiscovery({ ...backUpsInput(), ...patch }),
        (e) => isUps2MqttError(e, 'CONFIG_INVALID'),
      );
    });
  }

  it('refuses a device identifier without letters or digits', () => {
    const base = backUpsInput();
    assert.throws(
      () => buildDeviceDiscovery({ ...base, device: { ...base.device, identifier: '--' } }),
      (e) => isUps2MqttError(e, 'CONFIG_INVALID'),
    );
  });
});

describe('discoveryTopic', () => {
  it('sanitises the node id to [a-zA-Z0-9_-]', () => {
    assert.equal(
      discoveryTopic('homeassistant', 'office'),
      'homeassistant/device/ups2mqtt_office/config',
    );
    assert.equal(discoveryTopic('ha', 'a.b c+d'), 'ha/device/ups2mqtt_a_b_c_d/config');
    assert.equal(
      discoveryTopic('homeassistant', 'rack-2'),
      'homeassistant/device/ups2mqtt_rack-2/config',
    );
  });
});

describe('stableStringify', () => {
  it('sorts keys at every depth and keeps array order', () => {
    assert.equal(
      stableStringify({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } }),
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('drops undefined members like JSON.stringify and keeps Unicode as is', () => {
    assert.equal(stableStringify({ u: undefined, t: '°C', n: null }), '{"n":null,"t":"°C"}');
    assert.equal(stableStringify([undefined, Number.NaN]), '[null,null]');
    assert.equal(stableStringify(undefined), 'null');
  });

  it('pretty-prints with an indent and parses back to the same value', () => {
    const value = { b: [1, { c: true }], a: {}, e: [] };
    const pretty = stableStringify(value, 2);
    assert.equal(
      pretty,
      '{\n  "a": {},\n  "b": [\n    1,\n    {\n      "c": true\n    }\n  ],\n  "e": []\n}',
    );
    assert.deepEqual(JSON.parse(pretty), value);
  });
});
