/**
 * Generates the parts of the docs that must not drift from the code:
 *   schema/state.schema.json            from src/core/fields.ts
 *   docs/mqtt.md (state key table)       from src/core/fields.ts
 *   docs/configuration.md (option list)  from src/config/schema.ts
 * `--check` exits 1 when a committed file differs (run by the test suite).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { schemaLeaves } from '../src/cli/help.ts';
import { EVENT_TYPES } from '../src/core/events.ts';
import { type FieldSpec, STATE_FIELDS, stateJsonSchema } from '../src/core/fields.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');
let stale = 0;

function emit(rel: string, content: string): void {
  const path = `${root}${rel}`;
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {}
  if (current === content) return;
  if (check) {
    process.stderr.write(`${rel} is out of date: run node --import tsx scripts/gen-docs.ts\n`);
    stale++;
  } else {
    writeFileSync(path, content);
    process.stdout.write(`wrote ${rel}\n`);
  }
}

function replaceBetween(text: string, marker: string, body: string): string {
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < 0) throw new Error(`markers ${marker} missing`);
  return `${text.slice(0, i + start.length)}\n${body}\n${text.slice(j)}`;
}

function typeText(spec: FieldSpec): string {
  const k = spec.kind;
  if (k.type === 'number')
    return `${k.integer ? 'integer' : 'number'}${k.unit ? ` (${k.unit})` : ''}`;
  if (k.type === 'enum') return `enum: ${k.values.map((v) => `\`${v}\``).join(', ')}`;
  if (k.type === 'timestamp') return 'ISO 8601 with offset';
  return k.type;
}

emit('schema/state.schema.json', `${JSON.stringify(stateJsonSchema(), null, 2)}\n`);

const fieldRows = (Object.entries(STATE_FIELDS) as [string, FieldSpec][])
  .map(([key, spec]) => `| \`${key}\` | ${typeText(spec)} | ${spec.doc.replace(/\|/g, '\\|')} |`)
  .join('\n');
const mqttDoc = readFileSync(`${root}docs/mqtt.md`, 'utf8');
let nextMqtt = replaceBetween(
  mqttDoc,
  'fields',
  `| key | type | meaning |\n| --- | --- | --- |\n${fieldRows}`,
);
nextMqtt = replaceBetween(nextMqtt, 'events', EVENT_TYPES.map((e) => `\`${e}\``).join(', '));
emit('docs/mqtt.md', nextMqtt);

const options = schemaLeaves()
  .map((l) => {
    const lines = [`### \`${l.key}\``, '', l.doc, ''];
    lines.push(`- environment: \`${l.env ?? '-'}\``);
    lines.push(`- flag: ${l.arg ? `\`--${l.arg} VALUE\`` : 'none (config file or environment)'}`);
    lines.push(`- default: \`${JSON.stringify(l.default)}\``);
    return lines.join('\n');
  })
  .join('\n\n');
const confDoc = readFileSync(`${root}docs/configuration.md`, 'utf8');
emit('docs/configuration.md', replaceBetween(confDoc, 'options', options));

if (stale > 0) process.exit(1);
