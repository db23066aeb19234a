import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UpsState, UpsStateKey } from '../../../src/core/state.ts';
import { DiscoveryAnnouncer } from '../../../src/ha/announcer.ts';
import { validateDiscovery } from '../../helpers/ha-validator.ts';
import { captureLogger, RecordingPublisher } from '../bridge/fakes.ts';
import { backUpsXs1400u } from './samples.ts';

const ORIGIN = {
  name: 'ups2mqtt',
  swVersion: '0.1.0',
  supportUrl: 'https://github.com/ups2mqtt/ups2mqtt',
};
const UPS = { upsId: 'office', deviceIdentifier: 'ups2mqtt_4b1948p07984', name: 'Office UPS' };
const TOPIC = 'homeassistant/device/ups2mqtt_office/config';

function setup() {
  const publisher = new RecordingPublisher();
  const { logger, lines } = captureLogger();
  const announcer = new DiscoveryAnnouncer(
    { discoveryPrefix: 'homeassistant', baseTopic: 'ups2mqtt', origin: ORIGIN },
    publisher,
    logger,
  );
  return { publisher, announcer, lines };
}

const keys = (s: UpsState): Set<UpsStateKey> => new Set(Object.keys(s) as UpsStateKey[]);

describe('DiscoveryAnnouncer', () => {
  it('publishes a valid retained device config once, and again only when it changes or after reset()', async () => {
    const t = setup();
    await t.announcer.update(UPS, backUpsXs1400u, keys(backUpsXs1400u));
    await t.announcer.update(UPS, backUpsXs1400u, keys(backUpsXs1400u));
    const msgs = t.publisher.on(TOPIC);
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0]?.retain, true);
    assert.equal(msgs[0]?.qos, 1);
    const payload = JSON.parse(msgs[0]?.payload ?? '{}');
    assert.deepEqual(
      validateDiscovery(TOPIC, payload, {
        baseTopic: 'ups2mqtt',
        bridgeAvailabilityTopic: 'ups2mqtt/bridge/state',
      }),
      [],
    );
    assert.deepEqual(payload.dev.ids, ['ups2mqtt_4b1948p07984']);
    assert.equal(payload.dev.name, 'Office UPS');
    t.announcer.reset();
    await t.announcer.update(UPS, backUpsXs1400u, keys(backUpsXs1400u));
    assert.equal(t.publisher.on(TOPIC).length, 2);
  });

  it('recognises only its own retained configs', () => {
    const t = setup();
    const own = Buffer.from(
      JSON.stringify({
        o: { name: 'ups2mqtt' },
        stat_t: 'ups2mqtt/office/state',
        cmps: { bcharge: { p: 'sensor' }, online: { p: 'binary_sensor' } },
      }),
    );
    assert.deepEqual(t.announcer.parseRetained(TOPIC, own), {
      upsId: 'office',
      topic: TOPIC,
      components: { bcharge: 'sensor', online: 'binary_sensor' },
    });
    const otherBase = Buffer.from(
      JSON.stringify({ o: { name: 'ups2mqtt' }, stat_t: 'other/office/state', cmps: {} }),
    );
    assert.equal(
      t.announcer.parseRetained(TOPIC, otherBase),
      undefined,
      'another instance with another base topic',
    );
    const otherTool = Buffer.from(
      JSON.stringify({ o: { name: 'zigbee2mqtt' }, stat_t: 'ups2mqtt/office/state' }),
    );
    assert.equal(t.announcer.parseRetained(TOPIC, otherTool), undefined);
    assert.equal(t.announcer.parseRetained('homeassistant/device/zigbee_x/config', own), undefined);
    assert.equal(t.announcer.parseRetained(TOPIC, Buffer.from('not json')), undefined);
  });

  it('removes components that no longer exist with {"p": …} stubs, then publishes without them', async () => {
    const t = setup();
    t.announcer.setPrevious([
      {
        upsId: 'office',
        topic: TOPIC,
        components: { bcharge: 'sensor', itemp: 'sensor', ghost: 'button' },
      },
    ]);
    await t.announcer.update(UPS, backUpsXs1400u, keys(backUpsXs1400u));
    const [withStubs, clean] = t.publisher.on(TOPIC).map((m) => JSON.parse(m.payload));
    assert.deepEqual(withStubs.cmps.itemp, { p: 'sensor' });
    assert.deepEqual(withStubs.cmps.ghost, { p: 'button' });
    assert.equal(withStubs.cmps.bcharge.p, 'sensor');
    assert.equal(clean.cmps.itemp, undefined);
    assert.equal(clean.cmps.ghost, undefined);
    assert.ok(t.lines.some((l) => /no longer exist/.test(l.msg ?? '')));
  });

  it('clears discovery, state and availability of UPSes no longer configured', async () => {
    const t = setup();
    const oldTopic = 'homeassistant/device/ups2mqtt_old/config';
    t.announcer.setPrevious([
      { upsId: 'office', topic: TOPIC, components: {} },
      { upsId: 'old', topic: oldTopic, components: { bcharge: 'sensor' } },
    ]);
    const removed = await t.announcer.removeOrphans(new Set(['office']));
    assert.deepEqual(removed, ['old']);
    assert.deepEqual(
      t.publisher.messages.map((m) => [m.topic, m.payload, m.retain]),
      [
        [oldTopic, '', true],
        ['ups2mqtt/old/state', '', true],
        ['ups2mqtt/old/availability', '', true],
      ],
    );
  });

  it('passes command components through', async () => {
    const t = setup();
    t.announcer.setExtraComponents(() => ({
      cmd_test_battery_start_quick: {
        p: 'button',
        uniq_id: 'ups2mqtt_4b1948p07984_cmd_test_battery_start_quick',
        name: 'Self-test',
        cmd_t: 'ups2mqtt/office/command/test.battery.start.quick',
      },
    }));
    await t.announcer.update(UPS, backUpsXs1400u, keys(backUpsXs1400u));
    const payload = JSON.parse(t.publisher.last(TOPIC)?.payload ?? '{}');
    assert.equal(payload.cmps.cmd_test_battery_start_quick.p, 'button');
  });

  it('honours a deletion in Home Assistant until restart: no discovery even after reset()', async () => {
    const t = setup();
    const empty = Buffer.alloc(0);
    // An empty message for a UPS not announced yet is not a deletion of ours.
    assert.equal(t.announcer.noteDiscoveryMessage(TOPIC, empty), undefined);
    await t.announcer.update(UPS, backUpsXs1400u, keys(backUpsXs1400u));
    assert.equal(t.publisher.on(TOPIC).length, 1);
    // Our own config echoed back is not a deletion either.
    const own = Buffer.from(t.publisher.on(TOPIC)[0]?.payload ?? '');
    assert.equal(t.announcer.noteDiscoveryMessage(TOPIC, own), undefined);
    assert.equal(t.announcer.noteDiscoveryMessage(TOPIC, empty), 'office');
    assert.equal(t.announcer.noteDiscoveryMessage(TOPIC, empty), undefined, 'noticed once');
    assert.equal(t.announcer.isDeletedByUser('office'), true);
    assert.equal(
      t.lines.filter((l) => /deleted in Home Assistant/.test(String(l.msg))).length,
      1,
      'one info line says what happened and how to keep it away',
    );
    t.announcer.reset(); // reconnect or Home Assistant's birth
    await t.announcer.update(UPS, { ...backUpsXs1400u, load_pct: 50 }, keys(backUpsXs1400u));
    assert.equal(t.publisher.on(TOPIC).length, 1, 'nothing re-created');
    // Other UPSes and other tools' devices are untouched.
    assert.equal(
      t.announcer.noteDiscoveryMessage('homeassistant/device/zigbee_x/config', empty),
      undefined,
    );
  });

  it('puts the status page in the device block when given', async () => {
    const publisher = new RecordingPublisher();
    const { logger } = captureLogger();
    const announcer = new DiscoveryAnnouncer(
      {
        discoveryPrefix: 'homeassistant',
        baseTopic: 'ups2mqtt',
        origin: ORIGIN,
        configurationUrl: 'http://192.0.2.7:1551/',
      },
      publisher,
      logger,
    );
    const state = { ...backUpsXs1400u, firmware: '926.T2 .I', apc_model: 'BX1400U' };
    await announcer.update(UPS, state, keys(state));
    const dev = JSON.parse(publisher.on(TOPIC)[0]?.payload ?? '{}').dev;
    assert.deepEqual(dev, {
      ids: ['ups2mqtt_4b1948p07984'],
      name: 'Office UPS',
      mf: 'APC',
      mdl: 'Back-UPS XS 1400U',
      mdl_id: 'BX1400U',
      sn: '4B1948P07984',
      hw: '926.T2 .I',
      sw: '3.14.14 (31 May 2016) debian',
      cu: 'http://192.0.2.7:1551/',
    });
  });
});
