/**
 * Words of one line of NUT's network protocol (docs/protocols/nut.md; NUT developer guide,
 * "Network protocol information": https://networkupstools.org/docs/developer-guide.chunked/net-protocol.html).
 * A line is words separated by spaces; a word with spaces is enclosed in double quotes, and
 * inside quotes a backslash escapes the next character (`\"`, `\\`). Used by both sides:
 * the `nut://` source reads upsd's replies, the NUT server reads clients' requests.
 */

/** Splits a line (without its newline) into words; undefined for an unterminated quote. */
export function splitNutWords(line: string): string[] | undefined {
  const words: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    let word = '';
    if (c === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const d = line[i];
        if (d === '\\' && i + 1 < n) {
          word += line[i + 1];
          i += 2;
        } else if (d === '"') {
          i++;
          closed = true;
          break;
        } else {
          word += d;
          i++;
        }
      }
      if (!closed) return undefined;
    } else {
      while (i < n && line[i] !== ' ' && line[i] !== '\t') {
        const d = line[i];
        if (d === '\\' && i + 1 < n) {
          word += line[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
    }
    words.push(word);
  }
  return words;
}

/** Quotes a value for a NUT line: `"…"` with `"` and `\` escaped (always quoted). */
export function quoteNutWord(value: string): string {
  return `"${value.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`;
}
