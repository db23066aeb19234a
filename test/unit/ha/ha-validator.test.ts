/**
 * Proves the validator catches each mistake of docs/homeassistant.md#checklist-the-validator-enforces: a known-good payload
 * passes, and each row breaks it in exactly one way and expects exactly that rule to fire.
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkRenderedStates,
  renderTemplate,
  type ValidateOptions,
  validateDiscovery,
  validateDiscoverySet,
} from '../../helpers/ha-validator.ts';

type Obj = Record<string, unknown>;

const TOPIC = 'homeassistant/device/ups2mqtt_office/config';
const OPTS: ValidateOptions = {
  baseTopic: 'ups2mqtt',
  bridgeAvailabilityTopic: 'ups2mqtt/bridge/state',
  publishedKeys: ['input_voltage_v', 'online', 'status', 'updated_at', 'battery_date'],
  retainedTopics: ['ups2mqtt/office/state'],
};

/** A small valid payload using every platform the rules talk about. */
function good(): Obj {
  return {
    dev: { ids: ['ups2mqtt_abc'], name: 'Office UPS', mf: 'APC', cu: 'http://10.0.0.2/' },
    o: { name: 'ups2mqtt', sw: '0.1.0', url: 'https://example.invalid/ups2mqtt' },
    avty: [{ t: 'ups2mqtt/bridge/state' }, { t: 'ups2mqtt/office/availability' }],
    avty_mode: 'all',
    stat_t: 'ups2mqtt/office/state',
    qos: 1,
    cmps: {
      linev: {
        p: 'sensor',
        uniq_id: 'ups2mqtt_abc_linev',
        def_ent_id: 'sensor.office_input_voltage',
        name: 'Input voltage',
        dev_cla: 'voltage',
        unit_of_meas: 'V',
        stat_cla: 'measurement',
        sug_dsp_prc: 1,
        val_tpl:
          "{{ value_json.input_voltage_v if value_json.input_voltage_v is defined else 'None' }}",
      },
      status: {
        p: 'sensor',
        uniq_id: 'ups2mqtt_abc_status',
        name: 'Status',
        dev_cla: 'enum',
        ops: ['online', 'on_battery', 'comm_lost'],
        val_tpl: "{{ value_json.status if value_json.status is defined else 'None' }}",
        avty: [{ t: 'ups2mqtt/bridge/state' }],
        avty_mode: 'all',
      },
      last_update: {
        p: 'sensor',
        uniq_id: 'ups2mqtt_abc_last_update',
        name: 'Last update',
        dev_cla: 'timestamp',
        ent_cat: 'diagnostic',
        val_tpl: "{{ value_json.updated_at if value_json.updated_at is defined else 'None' }}",
      },
      battdate: {
        p: 'sensor',
        uniq_id: 'ups2mqtt_abc_battdate',
        name: 'Battery replaced',
        val_tpl: "{{ value_json.battery_date if value_json.battery_date is defined else 'None' }}",
      },
      online: {
        p: 'binary_sensor',
        uniq_id: 'ups2mqtt_abc_online',
        def_ent_id: 'binary_sensor.office_online_status',
        name: 'Online status',
        dev_cla: 'power',
        val_tpl:
          "{{ ('ON' if value_json.online else 'OFF') if value_json.online is defined else 'None' }}",
      },
      selftest_start: {
        p: 'button',
        uniq_id: 'ups2mqtt_abc_selftest_start',
        name: 'Run battery self-test',
        ent_cat: 'diagnostic',
        cmd_t: 'ups2mqtt/office/command/test.battery.start.quick',
      },
      shutdown: {
        p: 'button',
        uniq_id: 'ups2mqtt_abc_shutdown',
        name: 'Shut down UPS',
        ent_cat: 'config',
        en: false,
        ic: 'mdi:power-plug-off',
        dev_cla: 'restart',
        cmd_t: 'ups2mqtt/office/command/shutdown.return',
        pl_prs: '{"delay_s": 60}',
        ret: false,
      },
      beeper: {
        p: 'select',
        uniq_id: 'ups2mqtt_abc_beeper',
        name: 'Beeper',
        ent_cat: 'config',
        ops: ['enabled', 'disabled'],
        cmd_t: 'ups2mqtt/office/command/beeper',
      },
      delay: {
        p: 'number',
        uniq_id: 'ups2mqtt_abc_delay',
        name: 'Shutdown delay',
        ent_cat: 'config',
        min: 0,
        max: 600,
        step: 10,
        mode: 'box',
        cmd_t: 'ups2mqtt/office/command/delay',
      },
      armed: {
        p: 'switch',
        uniq_id: 'ups2mqtt_abc_armed',
        name: 'Shutdown armed',
        ent_cat: 'config',
        opt: false,
        cmd_t: 'ups2mqtt/office/command/arm',
      },
      event: {
        p: 'event',
        uniq_id: 'ups2mqtt_abc_event',
        name: 'Event',
        stat_t: 'ups2mqtt/office/event',
        evt_typ: ['power_lost', 'power_restored'],
        avty: [{ t: 'ups2mqtt/bridge/state' }],
      },
      itemp: { p: 'sensor' },
    },
  };
}

function cmp(p: Obj, key: string): Obj {
  return (p.cmps as Record<string, Obj>)[key] as Obj;
}

/** [rule expected, description, mutation of a fresh good payload] */
// biome-ignore format: one rule per line reads as a table
const BROKEN: [string, string, (p: Obj) => void][] = [
  ['key.duplicate', 'stat_t and state_topic at once', (p) => { cmp(p, 'linev').state_topic = 'ups2mqtt/office/state'; cmp(p, 'linev').stat_t = 'ups2mqtt/office/state'; }],
  ['key.duplicate', 'duplicate inside the device block', (p) => { (p.dev as Obj).manufacturer = 'APC'; }],
  ['key.object_id', 'obj_id in a component', (p) => { cmp(p, 'linev').obj_id = 'ups_linev'; }],
  ['key.object_id', 'object_id at the root', (p) => { p.object_id = 'x'; }],
  ['root.unknown_key', 'unknown root key', (p) => { p.name = 'UPS'; }],
  ['root.unknown_key', '~ at the root', (p) => { p['~'] = 'ups2mqtt/office'; }],
  ['root.missing', 'no origin', (p) => { delete p.o; }],
  ['root.missing', 'no device', (p) => { delete p.dev; }],
  ['root.components', 'empty components', (p) => { p.cmps = {}; }],
  ['origin.name', 'origin without a name', (p) => { p.o = { sw: '1' }; }],
  ['origin.unknown_key', 'support_url spelled wrong', (p) => { (p.o as Obj).homepage = 'https://x'; }],
  ['origin.url', 'support_url not http', (p) => { (p.o as Obj).url = 'ftp://x'; }],
  ['device.unknown_key', 'support_url inside device', (p) => { (p.dev as Obj).support_url = 'https://x'; }],
  ['device.identifiers', 'no identifiers or connections', (p) => { delete (p.dev as Obj).ids; }],
  ['device.identifiers', 'numeric identifier', (p) => { (p.dev as Obj).ids = [42]; }],
  ['device.connections', 'connection not a pair', (p) => { (p.dev as Obj).cns = [['mac']]; }],
  ['device.configuration_url', 'configuration_url without scheme', (p) => { (p.dev as Obj).cu = '10.0.0.2'; }],
  ['component.platform', 'missing platform', (p) => { delete cmp(p, 'linev').p; }],
  ['component.platform', 'unsupported platform', (p) => { cmp(p, 'linev').p = 'light'; }],
  ['component.unknown_key', 'status_topic typo', (p) => { cmp(p, 'linev').status_topic = 'ups2mqtt/office/state'; }],
  ['unique_id.missing', 'no unique_id', (p) => { delete cmp(p, 'linev').uniq_id; }],
  ['unique_id.format', 'upper-case unique_id', (p) => { cmp(p, 'linev').uniq_id = 'UPS_linev'; }],
  ['unique_id.duplicate', 'same unique_id twice on one platform', (p) => { cmp(p, 'battdate').uniq_id = 'ups2mqtt_abc_linev'; }],
  ['default_entity_id.format', 'bare default_entity_id', (p) => { cmp(p, 'linev').def_ent_id = 'office_input_voltage'; }],
  ['default_entity_id.format', 'double underscore', (p) => { cmp(p, 'linev').def_ent_id = 'sensor.office__input'; }],
  ['default_entity_id.format', 'trailing underscore', (p) => { cmp(p, 'linev').def_ent_id = 'sensor.office_'; }],
  ['default_entity_id.platform', 'wrong platform prefix', (p) => { cmp(p, 'online').def_ent_id = 'sensor.office_online'; }],
  ['default_entity_id.duplicate', 'same default_entity_id twice', (p) => { cmp(p, 'battdate').def_ent_id = 'sensor.office_input_voltage'; }],
  ['name.type', 'empty name', (p) => { cmp(p, 'linev').name = ' '; }],
  ['name.type', 'numeric name', (p) => { cmp(p, 'linev').name = 5; }],
  ['name.repeats_device', 'name repeats the device name', (p) => { cmp(p, 'linev').name = 'Office UPS input voltage'; }],
  ['availability.both', 'availability and availability_topic', (p) => { cmp(p, 'linev').avty_t = 'ups2mqtt/bridge/state'; }],
  ['availability.mode', 'bad availability_mode', (p) => { p.avty_mode = 'every'; }],
  ['availability.topic', 'availability item without topic', (p) => { p.avty = [{ topic_x: 'a' }]; }],
  ['availability.bridge', 'component dropping the bridge LWT', (p) => { cmp(p, 'status').avty = [{ t: 'ups2mqtt/office/availability' }]; }],
  ['topic.empty', 'empty state topic', (p) => { cmp(p, 'linev').stat_t = ''; }],
  ['topic.wildcard', 'wildcard in command topic', (p) => { cmp(p, 'selftest_start').cmd_t = 'ups2mqtt/office/command/#'; }],
  ['topic.wildcard', 'wildcard in state topic', (p) => { cmp(p, 'linev').stat_t = 'ups2mqtt/+/state'; }],
  ['topic.whitespace', 'trailing space in topic', (p) => { cmp(p, 'linev').stat_t = 'ups2mqtt/office/state '; }],
  ['topic.base', 'state topic outside the base topic', (p) => { cmp(p, 'linev').stat_t = 'other/office/state'; }],
  ['icon.format', 'icon without prefix', (p) => { cmp(p, 'linev').ic = 'battery'; }],
  ['entity_picture.url', 'entity_picture not a URL', (p) => { cmp(p, 'linev').ent_pic = 'battery.png'; }],
  ['entity_category.value', 'unknown category', (p) => { cmp(p, 'linev').ent_cat = 'system'; }],
  ['entity_category.platform', 'config category on a sensor', (p) => { cmp(p, 'linev').ent_cat = 'config'; }],
  ['type.boolean', 'enabled_by_default as a string', (p) => { cmp(p, 'linev').en = 'false'; }],
  ['type.boolean', 'retain as a number', (p) => { cmp(p, 'selftest_start').ret = 0; }],
  ['qos.value', 'qos 3 at the root', (p) => { p.qos = 3; }],
  ['qos.value', 'qos as a string in a component', (p) => { cmp(p, 'linev').qos = '1'; }],
  ['expire_after.value', 'expire_after zero', (p) => { cmp(p, 'linev').exp_aft = 0; }],
  ['precision.value', 'negative display precision', (p) => { cmp(p, 'linev').sug_dsp_prc = -1; }],
  ['precision.value', 'fractional display precision', (p) => { cmp(p, 'linev').sug_dsp_prc = 1.5; }],
  ['template.syntax', 'unbalanced braces', (p) => { cmp(p, 'linev').val_tpl = '{{ value_json.input_voltage_v }'; }],
  ['template.syntax', 'nested blocks', (p) => { cmp(p, 'linev').val_tpl = '{{ {{ value }} }}'; }],
  ['template.unknown_key', 'template reads a key never published', (p) => { cmp(p, 'linev').val_tpl = '{{ value_json.input_voltage }}'; }],
  ['state_topic.missing', 'sensor without any state topic', (p) => { delete p.stat_t; }],
  ['sensor.device_class', 'unknown sensor device class', (p) => { cmp(p, 'linev').dev_cla = 'volts'; }],
  ['sensor.state_class', 'unknown state class', (p) => { cmp(p, 'linev').stat_cla = 'gauge'; }],
  ['sensor.unit', 'Volts instead of V', (p) => { cmp(p, 'linev').unit_of_meas = 'Volts'; }],
  ['sensor.unit', 'VA with power', (p) => { Object.assign(cmp(p, 'linev'), { dev_cla: 'power', unit_of_meas: 'VA' }); }],
  ['sensor.unit', 'degree sign U+00BA instead of U+00B0', (p) => { Object.assign(cmp(p, 'linev'), { dev_cla: 'temperature', unit_of_meas: 'ºC' }); }],
  ['sensor.unit', 'voltage sensor without unit', (p) => { delete cmp(p, 'linev').unit_of_meas; }],
  ['sensor.unit_empty', 'empty unit string', (p) => { Object.assign(cmp(p, 'battdate'), { unit_of_meas: '' }); }],
  ['sensor.unit_forbidden', 'unit on a timestamp', (p) => { cmp(p, 'last_update').unit_of_meas = 's'; }],
  ['sensor.state_class_forbidden', 'state class on an enum', (p) => { cmp(p, 'status').stat_cla = 'measurement'; }],
  ['sensor.state_class_for_class', 'battery with total_increasing', (p) => { Object.assign(cmp(p, 'linev'), { dev_cla: 'battery', unit_of_meas: '%', stat_cla: 'total_increasing', }); }],
  ['sensor.state_class_for_class', 'measurement_angle without °', (p) => { Object.assign(cmp(p, 'battdate'), { stat_cla: 'measurement_angle' }); }],
  ['sensor.options', 'enum without options', (p) => { delete cmp(p, 'status').ops; }],
  ['sensor.options', 'empty options', (p) => { cmp(p, 'status').ops = []; }],
  ['sensor.options', 'duplicate options', (p) => { cmp(p, 'status').ops = ['online', 'online']; }],
  ['sensor.options', 'options without enum', (p) => { cmp(p, 'battdate').ops = ['a']; }],
  ['sensor.options', 'options with a unit', (p) => { cmp(p, 'status').unit_of_meas = 'V'; }],
  ['sensor.last_reset', 'last_reset template without total', (p) => { cmp(p, 'linev').lrst_val_tpl = '{{ value_json.updated_at }}'; }],
  ['sensor.expire_after_retained', 'expire_after on the retained state topic', (p) => { cmp(p, 'linev').exp_aft = 60; }],
  ['binary.device_class', 'sensor class on a binary sensor', (p) => { cmp(p, 'online').dev_cla = 'voltage'; }],
  ['button.command_topic', 'button without command topic', (p) => { delete cmp(p, 'selftest_start').cmd_t; }],
  ['button.device_class', 'button with class power', (p) => { cmp(p, 'selftest_start').dev_cla = 'power'; }],
  ['button.retain', 'button with retain true', (p) => { cmp(p, 'selftest_start').ret = true; }],
  ['button.shutdown', 'shutdown enabled by default', (p) => { cmp(p, 'shutdown').en = true; }],
  ['button.shutdown', 'shutdown as diagnostic', (p) => { cmp(p, 'shutdown').ent_cat = 'diagnostic'; }],
  ['select.options', 'select without options', (p) => { cmp(p, 'beeper').ops = []; }],
  ['select.command_topic', 'select without command topic', (p) => { delete cmp(p, 'beeper').cmd_t; }],
  ['number.range', 'min not below max', (p) => { cmp(p, 'delay').min = 600; }],
  ['number.step', 'zero step', (p) => { cmp(p, 'delay').step = 0; }],
  ['number.mode', 'bad number mode', (p) => { cmp(p, 'delay').mode = 'dial'; }],
  ['number.command_topic', 'number without command topic', (p) => { delete cmp(p, 'delay').cmd_t; }],
  ['switch.payloads', 'switch payload_on equals payload_off', (p) => { Object.assign(cmp(p, 'armed'), { pl_on: 'X', pl_off: 'X' }); }],
  ['event.event_types', 'event without types', (p) => { cmp(p, 'event').evt_typ = []; }],
  ['event.event_types', 'duplicate event types', (p) => { cmp(p, 'event').evt_typ = ['a', 'a']; }],
  ['state_topic.missing', 'event without state topic', (p) => { delete cmp(p, 'event').stat_t; delete p.stat_t; }],
];

function rulesOf(errors: string[]): string[] {
  return [...new Set(errors.map((e) => /^\[([^\]]+)\]/.exec(e)?.[1] ?? e))];
}

describe('validateDiscovery', () => {
  it('accepts the known-good payload (object and JSON text)', () => {
    assert.deepEqual(validateDiscovery(TOPIC, good(), OPTS), []);
    assert.deepEqual(validateDiscovery(TOPIC, JSON.stringify(good()), OPTS), []);
  });

  for (const [rule, description, mutate] of BROKEN) {
    it(`catches ${description} [${rule}]`, () => {
      const p = good();
      mutate(p);
      const errors = validateDiscovery(TOPIC, p, OPTS);
      assert.ok(rulesOf(errors).includes(rule), `expected ${rule}, got ${JSON.stringify(errors)}`);
    });
  }

  const badTopics: [string, string][] = [
    ['wrong prefix', 'ha/device/ups2mqtt_office/config'],
    ['unknown component', 'homeassistant/light/ups2mqtt_office/config'],
    ['dot in object id', 'homeassistant/device/ups2mqtt.office/config'],
    ['not ending in config', 'homeassistant/device/ups2mqtt_office/state'],
    ['too many levels', 'homeassistant/device/a/b/c/config'],
  ];
  for (const [name, topic] of badTopics) {
    it(`catches a bad topic: ${name} [topic.format]`, () => {
      assert.deepEqual(rulesOf(validateDiscovery(topic, good(), OPTS)), ['topic.format']);
    });
  }

  it('accepts a custom prefix and a node id', () => {
    const opts = { ...OPTS, prefix: 'ha' };
    assert.deepEqual(
      validateDiscovery('ha/device/node-1/ups2mqtt_office/config', good(), opts),
      [],
    );
  });

  const badPayloads: [string, unknown][] = [
    ['not JSON', '{"dev": '],
    ['a JSON array', '[]'],
    ['a BOM before the JSON', `\uFEFF${JSON.stringify(good())}`],
    ['null', null],
  ];
  for (const [name, payload] of badPayloads) {
    it(`catches a payload that is ${name} [payload.json]`, () => {
      assert.ok(rulesOf(validateDiscovery(TOPIC, payload, OPTS)).includes('payload.json'));
    });
  }

  it('expands abbreviations: long names are just as valid', () => {
    const p = good();
    const linev = cmp(p, 'linev');
    linev.unit_of_measurement = linev.unit_of_meas;
    delete linev.unit_of_meas;
    p.availability = p.avty;
    delete p.avty;
    assert.deepEqual(validateDiscovery(TOPIC, p, OPTS), []);
  });

  it('applies root options to components (a shared state topic is enough)', () => {
    const p = good();
    assert.equal(cmp(p, 'linev').stat_t, undefined);
    assert.deepEqual(validateDiscovery(TOPIC, p, OPTS), []);
  });

  it('validates a per-entity payload too', () => {
    const p: Obj = {
      ...cmp(good(), 'linev'),
      stat_t: 'ups2mqtt/office/state',
      dev: { ids: ['x'] },
    };
    delete p.p;
    const topic = 'homeassistant/sensor/ups2mqtt_abc_linev/config';
    const { bridgeAvailabilityTopic: _bridge, ...noBridge } = OPTS;
    assert.deepEqual(validateDiscovery(topic, p, noBridge), []);
    assert.deepEqual(rulesOf(validateDiscovery(topic, p, OPTS)), ['availability.bridge']);
    p.unit_of_meas = 'Volt';
    assert.ok(rulesOf(validateDiscovery(topic, p)).includes('sensor.unit'));
  });
});

describe('validateDiscoverySet', () => {
  it('accepts two UPSes with distinct ids', () => {
    const other = JSON.parse(
      JSON.stringify(good()).replaceAll('abc', 'def').replaceAll('office', 'rack'),
    ) as Obj;
    const topic2 = 'homeassistant/device/ups2mqtt_rack/config';
    assert.deepEqual(
      validateDiscoverySet(
        [
          { topic: TOPIC, payload: good() },
          { topic: topic2, payload: other },
        ],
        { ...OPTS, retainedTopics: [] },
      ),
      [],
    );
  });

  it('catches two devices sharing an identifier [set.identifiers]', () => {
    const other = JSON.parse(
      JSON.stringify(good()).replaceAll('_abc_', '_def_').replaceAll('office', 'rack'),
    ) as Obj;
    const errors = validateDiscoverySet([
      { topic: TOPIC, payload: good() },
      { topic: 'homeassistant/device/ups2mqtt_rack/config', payload: other },
    ]);
    assert.deepEqual(rulesOf(errors), ['set.identifiers']);
  });

  it('catches a unique_id reused by another payload [unique_id.duplicate]', () => {
    const other = JSON.parse(
      JSON.stringify(good()).replace('ups2mqtt_abc"', 'ups2mqtt_def"').replaceAll('office', 'rack'),
    ) as Obj;
    const errors = validateDiscoverySet([
      { topic: TOPIC, payload: good() },
      { topic: 'homeassistant/device/ups2mqtt_rack/config', payload: other },
    ]);
    assert.ok(rulesOf(errors).includes('unique_id.duplicate'));
    assert.ok(!rulesOf(errors).includes('set.identifiers'));
  });
});

describe('renderTemplate', () => {
  const state = JSON.stringify({ v: 232.5, f: false, t: true, s: 'online', z: 0, n: null });
  const rows: [string, string, string][] = [
    ['value form, present', "{{ value_json.v if value_json.v is defined else 'None' }}", '232.5'],
    ['value form, absent', "{{ value_json.x if value_json.x is defined else 'None' }}", 'None'],
    [
      'value form, zero is a value',
      "{{ value_json.z if value_json.z is defined else 'None' }}",
      '0',
    ],
    [
      'flag form, true',
      "{{ ('ON' if value_json.t else 'OFF') if value_json.t is defined else 'None' }}",
      'ON',
    ],
    [
      'flag form, false',
      "{{ ('ON' if value_json.f else 'OFF') if value_json.f is defined else 'None' }}",
      'OFF',
    ],
    [
      'flag form, absent',
      "{{ ('ON' if value_json.x else 'OFF') if value_json.x is defined else 'None' }}",
      'None',
    ],
    ['plain access', '{{ value_json.s }}', 'online'],
    ['absent key prints empty', '{{ value_json.x }}', ''],
    ['subscript', "{{ value_json['s'] }}", 'online'],
    ['is not defined', "{{ 'gone' if value_json.x is not defined else 'here' }}", 'gone'],
    ['not', "{{ 'yes' if not value_json.f else 'no' }}", 'yes'],
    ['null prints None', '{{ value_json.n }}', 'None'],
    ['boolean prints Python style', '{{ value_json.t }}', 'True'],
    ['if without else', "{{ 'x' if value_json.f }}", ''],
    ['text around blocks', 'V={{ value_json.v }}!', 'V=232.5!'],
    ['raw value', '{{ value }}', state],
  ];
  for (const [name, tpl, expected] of rows) {
    it(name, () => assert.equal(renderTemplate(tpl, state), expected));
  }

  const unsupported: [string, string][] = [
    ['statements', '{% if value_json.t %}on{% endif %}'],
    ['filters', '{{ value_json.v | float }}'],
    ['attribute of undefined', '{{ value_json.x.y }}'],
    ['unknown variable', '{{ states.sensor }}'],
    ['mapping output', '{{ value_json }}'],
  ];
  for (const [name, tpl] of unsupported) {
    it(`throws on ${name}`, () => assert.throws(() => renderTemplate(tpl, state)));
  }
});

describe('checkRenderedStates', () => {
  const sample = {
    input_voltage_v: 232,
    online: true,
    status: 'online',
    updated_at: '2022-11-13T11:40:42+01:00',
    battery_date: '2019-11-27',
  };

  it('accepts the good payload against a good state and against an empty one', () => {
    assert.deepEqual(checkRenderedStates(good(), JSON.stringify(sample)), []);
    assert.deepEqual(checkRenderedStates(good(), '{}'), []);
  });

  const bad: [string, string, Obj][] = [
    ['render.numeric', 'text on a voltage sensor', { input_voltage_v: 'N/A' }],
    ['render.timestamp', 'timestamp without offset', { updated_at: '2022-11-13 11:40:42' }],
    ['render.timestamp', 'apcupsd-style timestamp', { updated_at: '2022-11-13 11:40:42 +0100' }],
    ['render.enum', 'enum value outside options', { status: 'ONLINE' }],
    ['render.binary', 'binary rendering true/false', { online: 'yes' }],
  ];
  for (const [rule, name, patch] of bad) {
    it(`catches ${name} [${rule}]`, () => {
      const p = good();
      if (rule === 'render.binary') cmp(p, 'online').val_tpl = '{{ value_json.online }}';
      const errors = checkRenderedStates(p, JSON.stringify({ ...sample, ...patch }));
      assert.deepEqual(rulesOf(errors), [rule]);
    });
  }

  it('catches a template HA could not render [render.error]', () => {
    const p = good();
    cmp(p, 'linev').val_tpl = '{{ value_json.input_voltage_v.x }}';
    assert.deepEqual(rulesOf(checkRenderedStates(p, '{}')), ['render.error']);
  });

  it('catches a date sensor receiving a US date [render.date]', () => {
    const p = good();
    cmp(p, 'battdate').dev_cla = 'date';
    const errors = checkRenderedStates(p, JSON.stringify({ ...sample, battery_date: '10/22/11' }));
    assert.deepEqual(rulesOf(errors), ['render.date']);
  });
});
