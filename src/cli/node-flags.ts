/**
 * Node/V8 flags the user gave the process: on its command line (`process.execArgv`) or in
 * NODE_OPTIONS. The bridge's own V8 settings (tiers.ts, heap.ts) step aside for them.
 */

/** True when a word of `execArgv` or `nodeOptions` matches `flag` (`_` spelled as `-` too). */
export function nodeFlagGiven(
  flag: RegExp,
  execArgv: readonly string[],
  nodeOptions: string,
): boolean {
  const words = [...execArgv, ...nodeOptions.split(/\s+/)];
  return words.some((w) => flag.test(w.replaceAll('_', '-')));
}
