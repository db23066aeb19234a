/**
 * The shipped Home Assistant blueprints (blueprints/automation/ups2mqtt/) checked against
 * Home Assistant's own blueprint and selector schema rules, recorded below as data, and
 * against what ups2mqtt really publishes: every entity an input asks for exists in the
 * discovery payload of a realistic UPS, and every event type and attribute the templates
 * read is one the bridge sends. The README links import the very files checked here.
 */
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { EVENT_TYPES } from '../../../src/core/events.ts';
import type { UpsState } from '../../../src/core/state.ts';
import { buildDeviceDiscovery, type ComponentConfig } from '../../../src/ha/discovery.ts';
import { EnergyExtension, LoadPowerExtension } from '../../../src/policy/energy.ts';
import { OUTAGE_KEYS, OutageExtension } from '../../../src/policy/outages.ts';
import { backUpsInput, backUpsXs1400u } from './samples.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIR = 'blueprints/automation/ups2mqtt';

/**
 * Home Assistant's blueprint rules, from
 * https://github.com/home-assistant/core/blob/dev/homeassistant/components/blueprint/schemas.py
 * (BLUEPRINT_SCHEMA, BLUEPRINT_INPUT_SCHEMA, version_validator, unique_input_validator) and
 * https://www.home-assistant.io/docs/blueprint/schema/ .
 */
const BLUEPRINT_RULES = {
  required: ['name', 'domain'],
  allowed: [
    'name',
    'description',
    'domain',
    'source_url',
    'author',
    'homeassistant',
    'input',
    'discovery',
  ],
  domains: ['automation', 'script', 'template'],
  homeassistantKeys: ['min_version'],
  /** version_validator: a string of exactly three dot-separated integers. */
  minVersion: /^\d+\.\d+\.\d+$/,
  inputKeys: ['name', 'description', 'default', 'selector'],
  sectionKeys: ['name', 'icon', 'description', 'collapsed', 'input'],
};

/**
 * Selector config keys per type, from
 * https://github.com/home-assistant/core/blob/dev/homeassistant/helpers/selector.py
 * (each selector's CONFIG_SCHEMA; `read_only` comes from BASE_SELECTOR_CONFIG_SCHEMA, the
 * entity and device filter keys from ENTITY_/DEVICE_FILTER_SELECTOR_CONFIG_SCHEMA).
 * _get_selector_class: a selector is a mapping with exactly one key, a known type.
 */
const ENTITY_FILTER_KEYS = ['integration', 'domain', 'device_class', 'supported_features'];
const DEVICE_FILTER_KEYS = ['integration', 'manufacturer', 'model', 'model_id', 'entity'];
const SELECTOR_KEYS: Record<string, readonly string[]> = {
  action: ['read_only'],
  boolean: ['read_only'],
  duration: ['read_only', 'enable_day', 'enable_millisecond', 'allow_negative'],
  entity: [
    'read_only',
    ...ENTITY_FILTER_KEYS,
    'exclude_entities',
    'include_entities',
    'multiple',
    'filter',
  ],
  device: ['read_only', ...DEVICE_FILTER_KEYS, 'multiple', 'filter'],
  number: ['read_only', 'min', 'max', 'step', 'unit_of_measurement', 'mode'],
};
/** NumberSelector: mode box|slider (default slider, which needs min and max); step ≥ 0.001 or "any". */
const NUMBER_MODES = ['box', 'slider'];

/**
 * Top-level keys of an automation (https://www.home-assistant.io/docs/automation/yaml/),
 * in the plural form of Home Assistant 2024.10 and later.
 */
const AUTOMATION_KEYS = [
  'blueprint',
  'triggers',
  'conditions',
  'actions',
  'mode',
  'max_exceeded',
  'variables',
  'trigger_variables',
];
const MODES = ['single', 'restart', 'queued', 'parallel'];

/** `!input name` as the parser returns it. */
class InputRef {
  constructor(readonly name: string) {}
}
const inputTag = {
  tag: '!input',
  resolve: (value: string): InputRef => new InputRef(value),
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function load(file: string): Obj {
  const doc = YAML.parseDocument(readFileSync(`${ROOT}${DIR}/${file}`, 'utf8'), {
    customTags: [inputTag],
  });
  assert.deepEqual(doc.errors, [], `${file} parses`);
  const value = doc.toJS() as unknown;
  assert.ok(isObj(value));
  return value;
}

/** Every `!input` in the document. */
function inputRefs(node: unknown, out: string[] = []): string[] {
  if (node instanceof InputRef) out.push(node.name);
  else if (Array.isArray(node)) for (const n of node) inputRefs(n, out);
  else if (isObj(node)) for (const v of Object.values(node)) inputRefs(v, out);
  return out;
}

/** Checks one selector against SELECTOR_KEYS; returns problems. */
function selectorProblems(where: string, selector: unknown): string[] {
  if (!isObj(selector)) return [`${where}: a selector is a mapping`];
  const types = Object.keys(selector);
  if (types.length !== 1) return [`${where}: only one selector type may be given`];
  const type = types[0] as string;
  const allowed = SELECTOR_KEYS[type];
  if (!allowed) return [`${where}: unknown or unchecked selector type ${type}`];
  const config = selector[type] ?? {};
  if (!isObj(config)) return [`${where}: ${type} config is a mapping`];
  const problems = Object.keys(config)
    .filter((k) => !allowed.includes(k))
    .map((k) => `${where}: ${type} selector has no option ${k}`);
  const filterKeys = type === 'entity' ? ENTITY_FILTER_KEYS : DEVICE_FILTER_KEYS;
  if (config.filter !== undefined) {
    const filters = Array.isArray(config.filter) ? config.filter : [config.filter];
    for (const f of filters) {
      if (!isObj(f)) problems.push(`${where}: a filter is a mapping`);
      else
        for (const k of Object.keys(f))
          if (!filterKeys.includes(k)) problems.push(`${where}: filter has no key ${k}`);
    }
  }
  if (type === 'number') {
    const mode = config.mode ?? 'slider';
    if (!NUMBER_MODES.includes(String(mode))) problems.push(`${where}: number mode ${mode}`);
    if (mode === 'slider' && (config.min === undefined || config.max === undefined))
      problems.push(`${where}: a slider needs min and max`);
    if (config.step !== undefined && config.step !== 'any' && !(Number(config.step) >= 1e-3))
      problems.push(`${where}: step must be ≥ 0.001 or "any"`);
  }
  for (const k of ['multiple', 'read_only'])
    if (config[k] !== undefined && typeof config[k] !== 'boolean')
      problems.push(`${where}: ${k} must be a boolean`);
  return problems;
}

/** All problems of one blueprint with Home Assistant's rules. */
function blueprintProblems(doc: Obj): string[] {
  const problems: string[] = [];
  const bp = doc.blueprint;
  if (!isObj(bp)) return ['blueprint: missing'];
  for (const k of BLUEPRINT_RULES.required)
    if (typeof bp[k] !== 'string') problems.push(`blueprint.${k} is a required string`);
  for (const k of Object.keys(bp))
    if (!BLUEPRINT_RULES.allowed.includes(k)) problems.push(`blueprint.${k} is not allowed`);
  if (!BLUEPRINT_RULES.domains.includes(String(bp.domain)))
    problems.push(`blueprint.domain ${bp.domain}`);
  if (bp.source_url !== undefined && !URL.canParse(String(bp.source_url)))
    problems.push('blueprint.source_url is not a URL');
  if (bp.homeassistant !== undefined) {
    if (!isObj(bp.homeassistant)) problems.push('blueprint.homeassistant is a mapping');
    else {
      for (const k of Object.keys(bp.homeassistant))
        if (!BLUEPRINT_RULES.homeassistantKeys.includes(k))
          problems.push(`blueprint.homeassistant.${k}`);
      const v = bp.homeassistant.min_version;
      if (v !== undefined && (typeof v !== 'string' || !BLUEPRINT_RULES.minVersion.test(v)))
        problems.push('min_version must be a "major.minor.patch" string');
    }
  }
  const declared: string[] = [];
  const inputs = bp.input ?? {};
  if (!isObj(inputs)) problems.push('blueprint.input is a mapping');
  else
    for (const [key, spec] of Object.entries(inputs)) {
      if (spec === null) {
        declared.push(key);
        continue;
      }
      if (!isObj(spec)) {
        problems.push(`input ${key} is a mapping`);
        continue;
      }
      const isSection = isObj(spec.input);
      const keys = isSection ? BLUEPRINT_RULES.sectionKeys : BLUEPRINT_RULES.inputKeys;
      for (const k of Object.keys(spec))
        if (!keys.includes(k)) problems.push(`input ${key}: key ${k} is not allowed`);
      const items = isSection ? Object.entries(spec.input as Obj) : [[key, spec] as const];
      for (const [name, item] of items) {
        if (declared.includes(name)) problems.push(`Duplicate use of input key ${name}`);
        declared.push(name);
        if (isObj(item) && item.selector !== undefined)
          problems.push(...selectorProblems(`input ${name}`, item.selector));
        for (const k of ['name', 'description'])
          if (isObj(item) && item[k] !== undefined && typeof item[k] !== 'string')
            problems.push(`input ${name}.${k} is a string`);
      }
    }
  const used = new Set(inputRefs({ ...doc, blueprint: undefined }));
  for (const name of used)
    if (!declared.includes(name)) problems.push(`!input ${name} is not declared`);
  for (const name of declared) if (!used.has(name)) problems.push(`input ${name} is never used`);
  if (bp.domain === 'automation') {
    for (const k of Object.keys(doc))
      if (!AUTOMATION_KEYS.includes(k)) problems.push(`automation key ${k} is not allowed`);
    for (const k of ['triggers', 'actions'])
      if (!Array.isArray(doc[k]) || (doc[k] as unknown[]).length === 0)
        problems.push(`${k} must be a non-empty list`);
    if (doc.mode !== undefined && !MODES.includes(String(doc.mode)))
      problems.push(`mode ${doc.mode}`);
  }
  return problems;
}

/** Discovery of a realistic UPS after the bridge's extensions ran on its state. */
function realisticDiscovery(): Record<string, ComponentConfig> {
  const state: UpsState = structuredClone(backUpsXs1400u);
  const deps = { dataDir: '/nonexistent/ups2mqtt-blueprint-test', logger: silent };
  // No file is read or written: no ctx, so the extensions keep their figures in memory.
  new LoadPowerExtension({}).extend(state, true);
  new OutageExtension(deps).extend(state, true);
  new EnergyExtension({ maxGapMs: 3000 }, deps).extend(state, true);
  const input = backUpsInput(state);
  const msg = buildDeviceDiscovery({
    ...input,
    stickyFields: [...input.stickyFields, ...OUTAGE_KEYS],
  });
  return msg.payload.cmps;
}
const silent = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  fatal() {},
  child() {
    return silent;
  },
} as unknown as import('../../../src/core/log.ts').Logger;

const files = readdirSync(`${ROOT}${DIR}`)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const homepage = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { homepage: string })
  .homepage;

describe('Home Assistant blueprints', () => {
  it('ships the two blueprints', () => {
    assert.deepEqual(files, ['low_runtime_shutdown.yaml', 'power_outage_notify.yaml']);
  });

  for (const file of files) {
    describe(file, () => {
      const doc = load(file);
      const bp = doc.blueprint as Obj;

      it("passes Home Assistant's blueprint and selector rules", () => {
        assert.deepEqual(blueprintProblems(doc), []);
      });

      it('names its own file in the repository as source_url', () => {
        assert.equal(bp.source_url, `${homepage}/blob/main/${DIR}/${file}`);
      });

      it('selects ups2mqtt entities that exist in the discovery payload', () => {
        const cmps = Object.values(realisticDiscovery());
        const upsId = 'office'; // backUpsInput's id
        let checked = 0;
        for (const [name, spec] of Object.entries(bp.input as Obj)) {
          const selector = (spec as Obj).selector as Obj;
          const entity = selector.entity as Obj | undefined;
          if (!entity) continue;
          const filters = (entity.filter ?? []) as Obj[];
          if (!filters.some((f) => f.integration === 'mqtt')) continue;
          checked++;
          // The description names the entity id ups2mqtt gives it.
          const m = /`(\w+)\.<ups_id>_(\w+)`/.exec(String((spec as Obj).description));
          assert.ok(m, `input ${name} names its entity`);
          const entityId = `${m[1]}.${upsId}_${m[2]}`;
          const component = cmps.find((c) => c.def_ent_id === entityId);
          assert.ok(component, `${entityId} (input ${name}) is in the discovery payload`);
          assert.ok(
            filters.some(
              (f) =>
                f.integration === 'mqtt' &&
                [f.domain].flat().includes(component.p) &&
                (f.device_class === undefined ||
                  [f.device_class].flat().includes(String(component.dev_cla))),
            ),
            `${entityId} passes the selector filter of input ${name}`,
          );
        }
        assert.ok(checked >= 1, 'at least one ups2mqtt entity input');
      });

      it('reads only event types and attributes the bridge publishes', () => {
        const text = readFileSync(`${ROOT}${DIR}/${file}`, 'utf8');
        for (const [, type] of text.matchAll(/'(outage_\w+|power_\w+)'/g))
          assert.ok((EVENT_TYPES as readonly string[]).includes(type as string), type);
        // Attributes of the event entity = the event payload's keys (UpsEvent).
        const attributes = [...text.matchAll(/to_state\.attributes\.(\w+)/g)].map((x) => x[1]);
        const payloadKeys = ['event_type', 'duration_s', 'min_charge_pct', 'outages_total'];
        for (const a of attributes) assert.ok(payloadKeys.includes(a as string), `${a}`);
      });
    });
  }

  it('the README offers a one-click import of each, from this repository', () => {
    const readme = readFileSync(`${ROOT}README.md`, 'utf8');
    const links = [
      ...readme.matchAll(
        /https:\/\/my\.home-assistant\.io\/redirect\/blueprint_import\/\?blueprint_url=([^)\s"]+)/g,
      ),
    ].map((m) => decodeURIComponent(m[1] as string));
    const repo = new URL(homepage).pathname.slice(1);
    assert.deepEqual(
      links.sort(),
      files.map((f) => `https://raw.githubusercontent.com/${repo}/main/${DIR}/${f}`).sort(),
    );
  });
});
