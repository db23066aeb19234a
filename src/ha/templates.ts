/**
 * The two value-template forms discovery emits. Both tolerate an absent key: the bridge's
 * reduced comm-lost state carries no measurements, and rendering the string `None` makes
 * HA's MQTT sensor and binary_sensor set the state to unknown instead of logging a template
 * error (docs/homeassistant.md#sensors; home-assistant/core PR #53227 introduced the `None` convention).
 */

/**
 * Dict methods that Jinja's `value_json.x` would resolve before the key (attribute lookup
 * comes first), so a field with one of these names would render a bound method.
 */
const DICT_METHODS = new Set([
  'clear',
  'copy',
  'fromkeys',
  'get',
  'items',
  'keys',
  'pop',
  'popitem',
  'setdefault',
  'update',
  'values',
]);

function access(field: string): string {
  // Our fields are snake_case identifiers; anything else needs the subscript form.
  if (/^[a-z][a-z0-9_]*$/.test(field) && !DICT_METHODS.has(field)) return `value_json.${field}`;
  return `value_json[${JSON.stringify(field)}]`;
}

/** `{{ value_json.x if value_json.x is defined else 'None' }}`: the value as is, or unknown. */
export function valueTemplate(field: string): string {
  const v = access(field);
  return `{{ ${v} if ${v} is defined else 'None' }}`;
}

/** A JSON boolean as binary_sensor's default `ON`/`OFF`, or unknown when absent (docs/homeassistant.md#binary-sensors). */
export function flagTemplate(field: string): string {
  const v = access(field);
  return `{{ ('ON' if ${v} else 'OFF') if ${v} is defined else 'None' }}`;
}
