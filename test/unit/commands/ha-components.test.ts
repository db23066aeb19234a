import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandComponents } from '../../../src/commands/ha-components.ts';
import { buildDeviceDiscovery } from '../../../src/ha/discovery.ts';
import { validateDiscovery } from '../../helpers/ha-validator.ts';
import { backUpsXs1400u } from '../ha/samples.ts';

describe('command components', () => {
  const cmps = commandComponents({
    upsId: 'office',
    identifier: 'ups2mqtt_4b1948p07984',
    baseTopic: 'ups2mqtt',
    commands: ['test.battery.start.quick', 'beeper.mute', 'shutdown.return', 'shutdown.stop'],
    shutdownDelay: true,
  });

  it('offers one button per enabled command, an arm button and a delay number', () => {
    assert.deepEqual(Object.keys(cmps).sort(), [
      'cmd_arm',
      'cmd_beeper_mute',
      'cmd_shutdown_return',
      'cmd_shutdown_stop',
      'cmd_test_battery_start_quick',
      'shutdown_delay',
    ]);
    assert.deepEqual(cmps.cmd_test_battery_start_quick, {
      p: 'button',
      uniq_id: 'ups2mqtt_4b1948p07984_cmd_test_battery_start_quick',
      def_ent_id: 'button.office_quick_battery_test',
      name: 'Quick battery test',
      cmd_t: 'ups2mqtt/office/command/test.battery.start.quick',
      ic: 'mdi:battery-check',
      ret: false,
      qos: 1,
    });
  });

  it('names the delay number apart from the UPS-reported "Shutdown delay" sensor', () => {
    assert.equal(cmps.shutdown_delay?.name, 'Shutdown command delay');
    assert.equal(cmps.shutdown_delay?.def_ent_id, 'number.office_shutdown_command_delay');
  });

  it('gives restart-type buttons the restart class and the panel test the identify class', () => {
    const more = commandComponents({
      upsId: 'office',
      identifier: 'ups2mqtt_x',
      baseTopic: 'ups2mqtt',
      commands: ['shutdown.reboot', 'shutdown.reboot.graceful', 'test.panel.start', 'beeper.mute'],
      shutdownDelay: false,
    });
    const classes = Object.fromEntries(Object.entries(more).map(([k, c]) => [k, c.dev_cla]));
    assert.deepEqual(classes, {
      cmd_shutdown_reboot: 'restart',
      cmd_shutdown_reboot_graceful: 'restart',
      cmd_test_panel_start: 'identify',
      cmd_beeper_mute: undefined,
      cmd_arm: undefined,
    });
  });

  it('puts destructive buttons in the config category, disabled by default', () => {
    for (const key of ['cmd_shutdown_return', 'cmd_arm']) {
      assert.equal(cmps[key]?.ent_cat, 'config', key);
      assert.equal(cmps[key]?.en, false, key);
    }
    assert.equal(cmps.cmd_shutdown_stop?.en, undefined, 'cancel stays enabled');
  });

  it('passes the validator inside a full device payload', () => {
    const msg = buildDeviceDiscovery({
      upsId: 'office',
      discoveryPrefix: 'homeassistant',
      baseTopic: 'ups2mqtt',
      state: backUpsXs1400u,
      stickyFields: [],
      device: { identifier: 'ups2mqtt_4b1948p07984', name: 'Office UPS' },
      origin: {
        name: 'ups2mqtt',
        swVersion: '0.1.0',
        supportUrl: 'https://github.com/ups2mqtt/ups2mqtt',
      },
      extraComponents: cmps,
    });
    assert.deepEqual(validateDiscovery(msg.topic, msg.payload, { baseTopic: 'ups2mqtt' }), []);
    assert.equal(msg.payload.cmps.shutdown_delay?.stat_t, 'ups2mqtt/office/shutdown_delay');
  });

  it('offers nothing for a read-only source', () => {
    assert.deepEqual(
      commandComponents({
        upsId: 'o',
        identifier: 'ups2mqtt_o',
        baseTopic: 'ups2mqtt',
        commands: [],
        shutdownDelay: false,
      }),
      {},
    );
  });
});
