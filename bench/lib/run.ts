/**
 * The shared outer shell of every benchmark script: one process registry, clean-up on
 * success, failure and Ctrl-C (everything is stopped by the PIDs this script started), and
 * an exit code.
 */
import { ProcessRegistry } from '../../test/helpers/process.ts';

/**
 * Runs `body` with a registry and always stops what it registered. SIGINT/SIGTERM stop
 * everything too; the registry's own exit hook SIGKILLs anything still running after that.
 */
export function runBench(body: (registry: ProcessRegistry) => Promise<void>): void {
  const registry = new ProcessRegistry();
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${signal}: stopping everything this benchmark started\n`);
    registry.stopAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  body(registry)
    .then(
      () => {
        process.exitCode = 0;
      },
      (err: unknown) => {
        process.stderr.write(
          `benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
        );
        process.exitCode = 1;
      },
    )
    .finally(async () => {
      await registry.stopAll().catch((err: unknown) => {
        process.stderr.write(
          `clean-up failed: ${err instanceof Error ? err.message : String(err)}\n`,
        );
        process.exitCode = 1;
      });
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    });
}

/** A line of the human summary on stdout. */
export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}
