import { schemaDefinition } from '../config/schema.ts';
import { packageInfo } from './version.ts';

interface Leaf {
  key: string;
  doc: string;
  env?: string;
  arg?: string;
  default: unknown;
}

/** Every schema key with its doc, env name, flag and default. */
export function schemaLeaves(): Leaf[] {
  const out: Leaf[] = [];
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v && typeof v === 'object' && 'doc' in v) {
        const leaf = v as { doc: string; env?: string; arg?: string; default: unknown };
        out.push({
          key,
          doc: leaf.doc,
          default: leaf.default,
          ...(leaf.env ? { env: leaf.env } : {}),
          ...(leaf.arg ? { arg: leaf.arg } : {}),
        });
      } else if (v && typeof v === 'object') {
        walk(v as Record<string, unknown>, key);
      }
    }
  };
  walk(schemaDefinition as unknown as Record<string, unknown>, '');
  return out;
}

function optionList(): string {
  return schemaLeaves()
    .map((l) => {
      const flag = l.arg ? `--${l.arg} VALUE` : '(file/env only)';
      const def = JSON.stringify(l.default);
      return `  ${flag}\n      ${l.doc}\n      key ${l.key}, env ${l.env ?? '-'}, default ${def}`;
    })
    .join('\n');
}

const COMMANDS: Record<string, string> = {
  run: `Usage: ups2mqtt [run] [--config FILE] [OPTIONS]

Runs the bridge: reads every configured UPS and publishes state, availability, events and
Home Assistant discovery to MQTT. SIGINT/SIGTERM publish offline and exit.
A single UPS needs no file:
  UPS2MQTT_SOURCE=nis://127.0.0.1:3551 UPS2MQTT_MQTT_URL=mqtt://localhost:1883 ups2mqtt`,
  status: `Usage: ups2mqtt status --source URI [--json]

Takes one reading of a UPS and prints it, like apcaccess; --json prints the same JSON the
state topic carries. Exit 0 on a reading, 1 when the UPS cannot be read, 78 on bad input.`,
  'config-check': `Usage: ups2mqtt config check [--config FILE] [OPTIONS]

Validates the configuration and prints the effective settings with secrets masked.
Exit 0 when valid, 78 with every problem listed otherwise.`,
  probe: `Usage: ups2mqtt probe [--json]

Lists UPS-like USB HID devices (with the hid:// URI that pins each, where its report layout
comes from, the values and commands it yields) and serial ports (apcsmart:// candidates).`,
  'hid-dump': `Usage: ups2mqtt hid dump [--source hid://...] [--wait SECONDS] > ups.json

Captures a HID UPS's report descriptor, every Feature report and the Input reports seen
within --wait seconds (default 5) into one JSON file (docs/hid.md); replay it with
ups2mqtt status --source hid-replay://ups.json. The file holds the UPS's serial number.`,
  demo: `Usage: ups2mqtt demo [--demo-port N] [--demo-speed N]

Runs the bridge on a simulated UPS (sim://) published to an embedded MQTT broker on
127.0.0.1:1883 (or a free port when 1883 is taken), with Home Assistant discovery.
Press p to pull the simulated plug, r to restore mains, t for a self-test, Ctrl-C to stop.`,
};

/** Help text for a subcommand or the overview. */
export function helpText(command?: string): string {
  const { name, version } = packageInfo();
  const key = command === 'config' ? 'config-check' : command === 'hid' ? 'hid-dump' : command;
  const specific = key ? COMMANDS[key] : undefined;
  if (specific)
    return `${specific}\n\nOptions (defaults < config file < UPS2MQTT_* env < flags):\n${optionList()}\n`;
  return `${name} ${version}: UPS → MQTT bridge with Home Assistant discovery

Usage: ups2mqtt [COMMAND] [--config FILE] [OPTIONS]

Commands:
  run            run the bridge (default)
  status         one reading of a UPS (--source URI [--json])
  config check   validate and print the effective configuration
  demo           simulated UPS + embedded broker, to see it work
  probe          list USB HID UPSes and serial ports (--json)
  hid dump       capture a HID UPS to a JSON file (--source URI)
  help [COMMAND] this text, or a command's

Global flags: --config FILE, --help, --version

Options (defaults < config file < UPS2MQTT_* env < flags):
${optionList()}
`;
}
