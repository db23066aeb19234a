/** The command line split into a subcommand, the flags main handles, and convict's flags. */
export interface ParsedArgs {
  command: 'run' | 'status' | 'config-check' | 'demo' | 'help' | 'probe' | 'hid-dump';
  /** Subcommand named after `help`, if any. */
  helpFor?: string;
  configFile?: string;
  json: boolean;
  help: boolean;
  version: boolean;
  /** Everything else, passed to convict (e.g. `--mqtt-url X`). */
  rest: string[];
  /** Unknown subcommand words, reported as an error. */
  unknown: string[];
}

/** Splits argv (without node and script). Pure. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = {
    command: 'run',
    json: false,
    help: false,
    version: false,
    rest: [],
    unknown: [],
  };
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--config' || a === '-c') {
      const file = argv[++i];
      if (file !== undefined) out.configFile = file;
    } else if (a.startsWith('--config=')) {
      out.configFile = a.slice('--config='.length);
    } else if (a === '--json') {
      out.json = true;
    } else if (a === '--help' || a === '-h') {
      out.help = true;
    } else if (a === '--version' || a === '-V') {
      out.version = true;
    } else if (a.startsWith('-')) {
      out.rest.push(a);
      const next = argv[i + 1];
      if (!a.includes('=') && next !== undefined && !next.startsWith('--')) {
        out.rest.push(next);
        i++;
      }
    } else {
      words.push(a);
    }
  }
  const [first, second] = words;
  let consumed = 1;
  if (first === undefined || first === 'run') out.command = 'run';
  else if (first === 'status') out.command = 'status';
  else if (first === 'demo') out.command = 'demo';
  else if (first === 'probe') out.command = 'probe';
  else if (first === 'hid' && second === 'dump') {
    out.command = 'hid-dump';
    consumed = 2;
  } else if (first === 'help') {
    out.command = 'help';
    if (second !== undefined) {
      out.helpFor = second;
      consumed = 2;
    }
  } else if (first === 'config' && second === 'check') {
    out.command = 'config-check';
    consumed = 2;
  } else {
    consumed = 0;
  }
  out.unknown.push(...words.slice(consumed));
  return out;
}
