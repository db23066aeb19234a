#!/usr/bin/env node
/**
 * The CLI entry. V8's tiers and young generation are chosen first (tiers.ts, heap.ts), before the program's modules are
 * even loaded: loading them runs Node's module loader hot, and what V8 compiles for it
 * then stays resident (one NIS UPS: 61 MiB of RSS when the interpreter was chosen after
 * loading, 53 MiB before; docs/benchmarks.md). Then the program (program.ts) runs.
 */
import './tiers.ts';
import './heap.ts';

await import('./program.ts');
