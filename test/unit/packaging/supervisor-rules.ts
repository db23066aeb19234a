/**
 * The Home Assistant Supervisor's rules for an add-on's config.yaml, written down as data
 * so the tests can check addon/config.yaml without a Supervisor or the add-on linter
 * (docs/homeassistant.md#add-on-packaging; Supervisor `addons/validate.py` and
 * `addons/options.py`; frenck/action-addon-linter). Nothing here is specific to ups2mqtt.
 */

/** Keys every add-on must have. */
export const REQUIRED_KEYS = ['name', 'version', 'slug', 'description', 'arch'] as const;

/** Architectures the 2026 Supervisor still builds for (others only warn in the linter). */
export const CURRENT_ARCHES = ['aarch64', 'amd64'] as const;

/** Every key the Supervisor accepts in config.yaml (the linter sets additionalProperties false). */
export const KNOWN_KEYS = new Set([
  'name',
  'version',
  'slug',
  'description',
  'url',
  'arch',
  'machine',
  'homeassistant',
  'startup',
  'boot',
  'init',
  'advanced',
  'stage',
  'ports',
  'ports_description',
  'host_network',
  'host_ipc',
  'host_dbus',
  'host_pid',
  'host_uts',
  'devices',
  'udev',
  'usb',
  'uart',
  'gpio',
  'kernel_modules',
  'devicetree',
  'auth_api',
  'homeassistant_api',
  'hassio_api',
  'hassio_role',
  'docker_api',
  'privileged',
  'full_access',
  'apparmor',
  'map',
  'environment',
  'audio',
  'video',
  'ingress',
  'ingress_port',
  'ingress_entry',
  'ingress_stream',
  'panel_icon',
  'panel_title',
  'panel_admin',
  'services',
  'discovery',
  'backup',
  'backup_pre',
  'backup_post',
  'backup_exclude',
  'options',
  'schema',
  'image',
  'timeout',
  'tmpfs',
  'journald',
  'breaking_versions',
  'realtime',
  'legacy',
  'stdin',
  'webui',
  'watchdog',
  'codenotary',
  'auto_uart',
]);

/** Keys the linter reports as errors although the Supervisor still reads some of them. */
export const REJECTED_KEYS: Record<string, string> = {
  watchdog: 'obsolete: use a Docker HEALTHCHECK',
  codenotary: 'obsolete',
  auto_uart: 'obsolete: use uart',
};

/** Default values: the linter rejects a key set to its default. */
export const DEFAULTS: Record<string, unknown> = {
  startup: 'application',
  boot: 'auto',
  init: true,
  advanced: false,
  stage: 'stable',
  host_network: false,
  host_ipc: false,
  host_dbus: false,
  host_pid: false,
  host_uts: false,
  udev: false,
  usb: false,
  uart: false,
  gpio: false,
  kernel_modules: false,
  devicetree: false,
  auth_api: false,
  homeassistant_api: false,
  hassio_api: false,
  hassio_role: 'default',
  docker_api: false,
  full_access: false,
  apparmor: true,
  audio: false,
  video: false,
  ingress: false,
  ingress_port: 8099,
  ingress_entry: '/',
  ingress_stream: false,
  panel_icon: 'mdi:puzzle',
  panel_admin: true,
  backup: 'hot',
  timeout: 10,
  tmpfs: false,
  journald: false,
  realtime: false,
  legacy: false,
  stdin: false,
};

/** `services` entries: `^(mqtt|mysql):(provide|want|need)$`. */
export const SERVICE_PATTERN = /^(mqtt|mysql):(provide|want|need)$/;

/** Port keys: `8080/tcp`. */
export const PORT_KEY_PATTERN = /^\d{1,5}\/(tcp|udp)$/;

/**
 * One option type of `schema` (Supervisor RE_SCHEMA_ELEMENT): bool, email, url, port,
 * device[(filter)], str/password/int/float with optional (min,max), match(REGEX),
 * list(a|b|c); `?` makes it optional.
 */
export const SCHEMA_ELEMENT =
  /^(?:bool|email|url|port|device(?:\((?<filter>subsystem=[a-z]+)\))?|str(?:\((?<smin>\d+)?,(?<smax>\d+)?\))?|password(?:\((?<pmin>\d+)?,(?<pmax>\d+)?\))?|int(?:\((?<imin>-?\d+)?,(?<imax>-?\d+)?\))?|float(?:\((?<fmin>-?\d*\.?\d+)?,(?<fmax>-?\d*\.?\d+)?\))?|match\((?<match>.*)\)|list\((?<list>.+)\))\??$/;

/** Whether `value` is acceptable for the schema element `type` (the type must parse). */
export function valueMatches(type: string, value: unknown): boolean {
  const m = SCHEMA_ELEMENT.exec(type);
  if (!m) return false;
  const g = m.groups ?? {};
  const base = type.replace(/\?$/, '').replace(/\(.*$/, '');
  const within = (n: number, min?: string, max?: string): boolean =>
    (min === undefined || n >= Number(min)) && (max === undefined || n <= Number(max));
  switch (base) {
    case 'bool':
      return typeof value === 'boolean';
    case 'port':
      return Number.isInteger(value) && within(value as number, '1', '65535');
    case 'int':
      return Number.isInteger(value) && within(value as number, g.imin, g.imax);
    case 'float':
      return typeof value === 'number' && within(value, g.fmin, g.fmax);
    case 'str':
    case 'password':
    case 'email':
    case 'url':
    case 'device': {
      if (typeof value !== 'string') return false;
      const min = g.smin ?? g.pmin;
      const max = g.smax ?? g.pmax;
      return within(value.length, min, max);
    }
    case 'match':
      return typeof value === 'string' && new RegExp(`^(?:${g.match ?? ''})$`).test(value);
    case 'list':
      return typeof value === 'string' && (g.list ?? '').split('|').includes(value);
    default:
      return false;
  }
}

/** A leaf of the schema: its dotted path and element type. */
export interface SchemaLeaf {
  path: string;
  type: string;
  /** Depth of list/dict nesting above the leaf (the Supervisor allows at most 2). */
  depth: number;
}

/** Walks a schema (dicts, lists of one element, leaf strings) into its leaves. */
export function schemaLeaves(schema: unknown, path = '', depth = 0): SchemaLeaf[] {
  if (typeof schema === 'string') return [{ path, type: schema, depth }];
  if (Array.isArray(schema)) {
    if (schema.length !== 1) return [{ path, type: '<list must have one element>', depth }];
    return schemaLeaves(schema[0], `${path}[]`, depth + 1);
  }
  if (typeof schema === 'object' && schema !== null) {
    const nested = path === '' ? depth : depth + 1;
    return Object.entries(schema).flatMap(([k, v]) =>
      schemaLeaves(v, path ? `${path}.${k}` : k, nested),
    );
  }
  return [{ path, type: `<${typeof schema}>`, depth }];
}

/**
 * Problems of an option value against its schema node (validated as the Supervisor does
 * on save: lists element-wise, dicts key-wise, optional keys may be missing).
 */
export function validateOption(schema: unknown, value: unknown, path: string): string[] {
  if (typeof schema === 'string') {
    return valueMatches(schema, value)
      ? []
      : [`${path}: ${JSON.stringify(value)} is not ${schema}`];
  }
  if (Array.isArray(schema)) {
    if (!Array.isArray(value)) return [`${path}: must be a list`];
    return value.flatMap((v, i) => validateOption(schema[0], v, `${path}[${i}]`));
  }
  if (typeof schema === 'object' && schema !== null) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return [`${path}: must be a mapping`];
    }
    const entries = Object.entries(schema as Record<string, unknown>);
    const problems: string[] = [];
    for (const key of Object.keys(value)) {
      if (!entries.some(([k]) => k === key)) problems.push(`${path}.${key}: not in the schema`);
    }
    for (const [key, sub] of entries) {
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined) {
        if (!(typeof sub === 'string' && sub.endsWith('?')))
          problems.push(`${path}.${key}: required`);
      } else {
        problems.push(...validateOption(sub, v, `${path}.${key}`));
      }
    }
    return problems;
  }
  return [`${path}: unknown schema node`];
}
