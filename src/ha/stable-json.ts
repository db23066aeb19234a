/**
 * Deterministic JSON: object keys sorted (by UTF-16 code units) at every depth, array order
 * kept. Callers compare the string with the last one published and publish only on change,
 * so the same input must give the same bytes regardless of how the object was assembled.
 */

/**
 * Serialises like `JSON.stringify` (undefined object members dropped, undefined array items
 * and non-finite numbers as `null`), but with sorted keys. `indent` > 0 pretty-prints.
 */
export function stableStringify(value: unknown, indent = 0): string {
  return write(value, indent, '') ?? 'null';
}

function write(value: unknown, indent: number, pad: string): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      throw new TypeError('stableStringify: BigInt has no JSON form');
  }
  const inner = indent > 0 ? pad + ' '.repeat(indent) : '';
  const nl = indent > 0 ? '\n' : '';
  const colon = indent > 0 ? ': ' : ':';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((v: unknown) => inner + (write(v, indent, inner) ?? 'null'));
    return `[${nl}${items.join(`,${nl}`)}${nl}${pad}]`;
  }
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const v = write(record[key], indent, inner);
    if (v !== undefined) members.push(`${inner}${JSON.stringify(key)}${colon}${v}`);
  }
  if (members.length === 0) return '{}';
  return `{${nl}${members.join(`,${nl}`)}${nl}${pad}}`;
}
