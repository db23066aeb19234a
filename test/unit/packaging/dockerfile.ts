/**
 * A small Dockerfile reader for static checks (no Docker engine runs here): joins
 * continuation lines, drops comments, and splits each instruction into its keyword and
 * arguments. Enough for the rules the tests check, not a full parser (no heredocs).
 */

export interface Instruction {
  keyword: string;
  args: string;
  /** 1-based line of the instruction's first line. */
  line: number;
  /** Index of the build stage (FROM count - 1); -1 before the first FROM. */
  stage: number;
}

export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  let stage = -1;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] ?? '';
    if (/^\s*(#|$)/.test(line)) continue;
    const start = i + 1;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++;
      const next = lines[i] ?? '';
      if (/^\s*#/.test(next)) continue;
      line = `${line.replace(/\\\s*$/, ' ')}${next.trim()}`;
    }
    const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const keyword = (m[1] ?? '').toUpperCase();
    if (keyword === 'FROM') stage++;
    out.push({ keyword, args: (m[2] ?? '').replace(/\s+/g, ' ').trim(), line: start, stage });
  }
  return out;
}

/** The JSON-array form of CMD/ENTRYPOINT/HEALTHCHECK CMD, or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  const json = args.replace(/^.*?(?=\[)/, '');
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) && parsed.every((a) => typeof a === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}
