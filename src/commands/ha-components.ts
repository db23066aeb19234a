import { slugify } from '../core/state.ts';
import type { ComponentConfig } from '../ha/payload.ts';
import { Topics } from '../mqtt/topics.ts';
import { MAX_DELAY_S } from './parse.ts';
import { ARM_COMMAND, DESTRUCTIVE_COMMANDS } from './router.ts';

/** Entity name and icon per command (names follow NUT's descriptions, in plain words). */
const LABELS: Record<string, { name: string; icon: string }> = {
  'test.battery.start.quick': { name: 'Quick battery test', icon: 'mdi:battery-check' },
  'test.battery.start.deep': { name: 'Deep battery test', icon: 'mdi:battery-sync' },
  'test.battery.start': { name: 'Battery test', icon: 'mdi:battery-check' },
  'test.battery.stop': { name: 'Stop battery test', icon: 'mdi:battery-remove' },
  'test.panel.start': { name: 'Front panel test', icon: 'mdi:led-on' },
  'test.failure.start': { name: 'Simulate power failure (UPS)', icon: 'mdi:power-plug-off' },
  'calibrate.start': { name: 'Start runtime calibration', icon: 'mdi:battery-sync' },
  'calibrate.stop': { name: 'Stop runtime calibration', icon: 'mdi:battery-remove' },
  'beeper.enable': { name: 'Enable beeper', icon: 'mdi:volume-high' },
  'beeper.disable': { name: 'Disable beeper', icon: 'mdi:volume-off' },
  'beeper.mute': { name: 'Mute beeper', icon: 'mdi:volume-mute' },
  'shutdown.return': { name: 'Shut down and return', icon: 'mdi:power-cycle' },
  'shutdown.stayoff': { name: 'Shut down and stay off', icon: 'mdi:power-off' },
  'shutdown.reboot': { name: 'Reboot load', icon: 'mdi:restart' },
  'shutdown.reboot.graceful': { name: 'Reboot load gracefully', icon: 'mdi:restart' },
  'shutdown.stop': { name: 'Cancel shutdown', icon: 'mdi:cancel' },
  'load.off': { name: 'Turn load off', icon: 'mdi:power-plug-off' },
  'load.on': { name: 'Turn load on', icon: 'mdi:power-plug' },
  'simulate.power_fail': { name: 'Simulate mains failure', icon: 'mdi:transmission-tower-off' },
  'simulate.power_restore': { name: 'Simulate mains restore', icon: 'mdi:transmission-tower' },
  [ARM_COMMAND]: { name: 'Arm shutdown commands', icon: 'mdi:shield-alert' },
};

/**
 * Button device classes (HA's button platform knows `identify`, `restart` and `update`):
 * the commands that restart the load are `restart`, and the front-panel test, which lights
 * and beeps the unit so it can be found in a rack, is `identify`.
 */
const BUTTON_CLASSES: Readonly<Record<string, 'identify' | 'restart'>> = {
  'shutdown.reboot': 'restart',
  'shutdown.reboot.graceful': 'restart',
  'test.panel.start': 'identify',
};

/**
 * Every UPS command name the command framework knows (labelled here, or destructive and
 * guarded by the router). A source that learns its commands from its daemon (NUT's
 * `LIST CMD`) offers the intersection with this set.
 */
export const KNOWN_COMMANDS: ReadonlySet<string> = new Set(
  [...Object.keys(LABELS), ...DESTRUCTIVE_COMMANDS].filter((c) => c !== ARM_COMMAND),
);

/** Stable `cmps` key of a command's button. */
export function commandComponentKey(name: string): string {
  return `cmd_${name.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}`;
}

export interface CommandComponentsInput {
  upsId: string;
  /** Device identifier (`ups2mqtt_<serial>`): unique ids derive from it. */
  identifier: string;
  baseTopic: string;
  /** Commands advertised by the source and enabled by the config. */
  commands: readonly string[];
  /** A shutdown-delay number applies (shutdown.return/stayoff enabled). */
  shutdownDelay: boolean;
}

/**
 * Home Assistant components for the commands of one UPS (docs/homeassistant.md#buttons-numbers-and-events): a
 * button per enabled command — destructive ones in the config category and disabled by
 * default — an `arm` button when any destructive command is enabled, and a number for the
 * shutdown delay. Pure. Buttons never retain (HA's default; set explicitly).
 */
export function commandComponents(input: CommandComponentsInput): Record<string, ComponentConfig> {
  const out: Record<string, ComponentConfig> = {};
  const topics = new Topics(input.baseTopic);
  const entityBase = slugify(input.upsId);
  const withArm = input.commands.some((c) => DESTRUCTIVE_COMMANDS.has(c))
    ? [...input.commands, ARM_COMMAND]
    : [...input.commands];
  for (const name of withArm) {
    const key = commandComponentKey(name);
    const label = LABELS[name] ?? { name, icon: 'mdi:gesture-tap-button' };
    const dangerous = DESTRUCTIVE_COMMANDS.has(name) || name === ARM_COMMAND;
    const c: ComponentConfig = {
      p: 'button',
      uniq_id: `${input.identifier}_${key}`,
      def_ent_id: `button.${entityBase}_${slugify(label.name)}`,
      name: label.name,
      cmd_t: topics.command(input.upsId, name),
      ic: label.icon,
      ret: false,
      qos: 1,
    };
    const deviceClass = BUTTON_CLASSES[name];
    if (deviceClass !== undefined) c.dev_cla = deviceClass;
    if (dangerous) {
      c.ent_cat = 'config';
      c.en = false;
    } else if (name.startsWith('beeper.') || name.startsWith('calibrate.')) {
      c.ent_cat = 'config';
    }
    out[key] = c;
  }
  if (input.shutdownDelay) {
    out.shutdown_delay = {
      p: 'number',
      uniq_id: `${input.identifier}_shutdown_delay`,
      def_ent_id: `number.${entityBase}_shutdown_command_delay`,
      // Not "Shutdown delay": that is the sensor with the delay the UPS itself reports.
      name: 'Shutdown command delay',
      cmd_t: topics.shutdownDelaySet(input.upsId),
      stat_t: topics.shutdownDelay(input.upsId),
      dev_cla: 'duration',
      unit_of_meas: 's',
      min: 0,
      max: MAX_DELAY_S,
      step: 1,
      mode: 'box',
      ent_cat: 'config',
      ic: 'mdi:timer-cog',
      ret: false,
      qos: 1,
    };
  }
  return out;
}
