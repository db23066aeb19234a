/**
 * The answers of a real SMART-UPS 420 (SU420INET, firmware 21.3.I), taken byte for byte from
 * the UART transcript in test/fixtures/apcsmart (see PROVENANCE.md there), plus the three
 * replies that transcript lacks, each from NUT's debug log of the same unit.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../../fixtures/apcsmart/', import.meta.url));

interface PairsFile {
  pairs: { command: string; replyHex: string }[];
}
interface NutFile {
  modelReply: string;
}

/** Reply bytes without the CR LF. */
function replyBytes(hex: string): Buffer {
  const bytes = Buffer.from(hex.replace(/\s+/g, ''), 'hex');
  return bytes.subarray(0, bytes.length - 2);
}

/** Every recorded command → reply (latin1, CR LF removed). `Y` is left out: it switches mode. */
export function su420Replies(): Map<string, string> {
  const pairs = JSON.parse(
    readFileSync(`${FIXTURES}smart-ups-420-su420inet.pairs.json`, 'utf8'),
  ) as PairsFile;
  const nut = JSON.parse(
    readFileSync(`${FIXTURES}smart-ups-420-su420inet.nut-apcsmart-old.json`, 'utf8'),
  ) as NutFile;
  const replies = new Map<string, string>();
  for (const p of pairs.pairs) {
    if (p.command === 'Y') continue;
    replies.set(p.command, replyBytes(p.replyHex).toString('latin1'));
  }
  // The transcript's text log cannot show DEL, but NUT's log of the same unit lists 0x7f in
  // the command set (pairs.json notes): it sits after `~`.
  const a = replies.get('a');
  if (a !== undefined) replies.set('a', a.endsWith('~') ? `${a}\x7f` : a);
  // ^A is not in the transcript; NUT stored the unit's reply with its three trailing blanks.
  replies.set('\x01', nut.modelReply);
  replies.set('\x1a', SU420_EEPROM);
  // X (last self-test result) is in the unit's command set but not in the transcript; NUT's
  // log of the same unit read `ups.test.result: OK`.
  replies.set('X', 'OK');
  return replies;
}

/**
 * `^Z` of the same unit, rebuilt in the docs/protocols/apcsmart.md#eeprom-settings layout from the enumerations NUT decoded from it
 * (locale `I` = international 230 V, `4` = all): letter, locale, count, width, choices. NUT
 * shows `q` and `E` converted to seconds; the raw choices are 02/05/07/10 minutes and
 * 336/168/ON /OFF.
 */
export const SU420_EEPROM =
  '#uI43253257261265lI43208204200196e44200155090oI13230s431HMLq44202050710' +
  'p443020180300600k4410TLNr443000060180300E443336168ON OFF';

/** Enumerated EEPROM choices per letter, parsed from a `^Z` string (for `-` / `+`). */
export function eepromChoices(table: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let i = table.startsWith('#') ? 1 : 0;
  while (i + 4 <= table.length) {
    const letter = table[i] ?? '';
    const count = Number(table[i + 2]);
    const width = Number(table[i + 3]);
    const choices: string[] = [];
    for (let k = 0; k < count; k++) {
      const start = i + 4 + k * width;
      choices.push(table.slice(start, start + width));
    }
    out.set(letter, choices);
    i += 4 + count * width;
  }
  return out;
}
