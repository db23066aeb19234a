/**
 * Items of upsd's list replies, and `upsc`-style dumps, as plain data. Pure.
 * See docs/protocols/nut.md for the reply shapes.
 */

/** One UPS of `LIST UPS`. */
export interface NutUpsEntry {
  name: string;
  description: string;
}

/** `UPS <name> "<description>"` items. Items of another shape are skipped. */
export function parseUpsList(items: readonly (readonly string[])[]): NutUpsEntry[] {
  const out: NutUpsEntry[] = [];
  for (const w of items) {
    if (w[0] === 'UPS' && w[1] !== undefined) out.push({ name: w[1], description: w[2] ?? '' });
  }
  return out;
}

/**
 * `VAR <ups> <name> "<value>"` items of `LIST VAR <ups>` as name → value, in upsd's order.
 * Items of another UPS or shape are skipped; a name sent twice keeps its last value.
 */
export function parseVarList(
  ups: string,
  items: readonly (readonly string[])[],
): Map<string, string> {
  const vars = new Map<string, string>();
  for (const w of items) {
    if (w[0] === 'VAR' && w[1] === ups && w[2] !== undefined) vars.set(w[2], w[3] ?? '');
  }
  return vars;
}

/** `CMD <ups> <name>` items of `LIST CMD <ups>`. */
export function parseCmdList(ups: string, items: readonly (readonly string[])[]): string[] {
  const out: string[] = [];
  for (const w of items) if (w[0] === 'CMD' && w[1] === ups && w[2] !== undefined) out.push(w[2]);
  return out;
}

/**
 * An `upsc <ups>` dump (`name: value` per line), as in NUT's device-dump library (.dev
 * files): `#` lines are comments, a value's trailing blanks and a trailing tab comment
 * (`65535<TAB>#BAD: overflow?`, an annotation of the library) are not part of it.
 */
export function parseUpscDump(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    if (raw.trimStart().startsWith('#')) continue;
    const m = /^([A-Za-z0-9_.-]+):(?: (.*))?$/.exec(raw);
    if (!m?.[1]) continue;
    vars.set(m[1], (m[2] ?? '').replace(/\t#.*$/, '').trim());
  }
  return vars;
}
