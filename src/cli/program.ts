import { readFileSync } from 'node:fs';
import { KNOWN_COMMANDS } from '../commands/ha-components.ts';
import { EXIT_CONFIG, formatProblems, loadConfig } from '../config/load.ts';
import { systemClock } from '../core/clock.ts';
import { isUps2MqttError } from '../core/errors.ts';
import { AVAILABLE_SOURCE_KINDS } from '../sources/index.ts';
import { maskUri } from '../sources/uri.ts';
import { type ParsedArgs, parseArgs } from './args.ts';
import { expandNutWildcards } from './expand-nut.ts';
import { settleYoungGeneration } from './heap.ts';
import { helpText } from './help.ts';
import { createLogger } from './logger.ts';
import { startBridge, stopOnSignals } from './run.ts';
import { pollsPerSecond, settleTiers } from './tiers.ts';
import { packageInfo } from './version.ts';

/**
 * The composition root: the only place that reads argv and the environment, builds the
 * root logger and picks sources (the one composition root: no other module reads the environment or the config).
 */
async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const args = parseArgs(argv);
  if (args.version) {
    process.stdout.write(`${packageInfo().version}\n`);
    return 0;
  }
  if (args.help || args.command === 'help') {
    process.stdout.write(helpText(args.helpFor ?? (args.help ? args.command : undefined)));
    return 0;
  }
  if (args.unknown.length > 0) {
    process.stderr.write(
      `ups2mqtt: unknown command "${args.unknown.join(' ')}"; see ups2mqtt --help\n`,
    );
    return 64;
  }
  switch (args.command) {
    case 'config-check':
      return configCheck(args, env);
    case 'status':
      return status(args, env);
    case 'demo': {
      const { runDemo } = await import('./demo.ts');
      return runDemo(args, env);
    }
    case 'probe': {
      const { probeCli } = await import('./hid-commands.ts');
      return probeCli(args);
    }
    case 'hid-dump': {
      const { hidDumpCli } = await import('./hid-commands.ts');
      return hidDumpCli(args);
    }
    default:
      return run(args, env);
  }
}

function load(args: ParsedArgs, env: NodeJS.ProcessEnv, rest: string[] = args.rest) {
  return loadConfig({ ...(args.configFile ? { file: args.configFile } : {}), env, args: rest });
}

function reportInvalid(problems: Parameters<typeof formatProblems>[0]): number {
  process.stderr.write(
    `ups2mqtt: invalid configuration (nothing was started):\n${formatProblems(problems)}\n`,
  );
  return EXIT_CONFIG;
}

/** A problem for each configured source kind this build does not have. */
function unavailableKindProblems(
  upses: readonly { spec: { kind: string } }[],
): Parameters<typeof formatProblems>[0] {
  return upses
    .map((u) => u.spec.kind)
    .filter((k) => !AVAILABLE_SOURCE_KINDS.has(k as never))
    .map((k) => ({
      key: 'source',
      message: `source kind "${k}" is not available in this version`,
    }));
}

function configCheck(args: ParsedArgs, env: NodeJS.ProcessEnv): number {
  const result = load(args, env);
  if (!result.ok) return reportInvalid(result.problems);
  const missing = unavailableKindProblems(result.config.upses);
  if (missing.length > 0) return reportInvalid(missing);
  process.stdout.write(`${JSON.stringify(result.effective, null, 2)}\n`);
  process.stderr.write('configuration is valid\n');
  return 0;
}

async function run(args: ParsedArgs, env: NodeJS.ProcessEnv): Promise<number> {
  const result = load(args, env);
  if (!result.ok) return reportInvalid(result.problems);
  const missing = unavailableKindProblems(result.config.upses);
  if (missing.length > 0) return reportInvalid(missing);
  const logger = createLogger({ ...result.config.log, isTty: process.stderr.isTTY === true });
  logger.debug({ config: result.effective }, 'effective configuration');
  // The Home Assistant add-on runs with SUPERVISOR_TOKEN: the power policy then shuts the
  // host down through the Supervisor (docs/power-policy.md).
  const token = env.SUPERVISOR_TOKEN ?? '';
  let app: Awaited<ReturnType<typeof startBridge>>;
  try {
    app = await startBridge(result.config, logger, {
      ...(token === '' ? {} : { supervisor: { url: 'http://supervisor', token } }),
      // V8's compilers and young generation sized to the UPSes served (`nut://host`
      // expanded): tiers.ts, heap.ts.
      onUpses: (upses) => {
        const polls = pollsPerSecond(upses);
        const tiers = settleTiers(polls);
        const young = settleYoungGeneration(polls);
        logger.debug({ upses: upses.length, polls_per_s: polls, tiers, young }, 'V8 sizing');
      },
    });
  } catch (err) {
    // A protocol server's port that cannot be bound is a setting to change, like bad config.
    if (!isUps2MqttError(err, 'LISTEN_FAILED')) throw err;
    process.stderr.write(`ups2mqtt: cannot start: ${err.message}\n`);
    return EXIT_CONFIG;
  }
  await stopOnSignals(app, logger);
  return 0;
}

async function status(args: ParsedArgs, env: NodeJS.ProcessEnv): Promise<number> {
  const result = load(args, env);
  if (!result.ok) return reportInvalid(result.problems);
  const ups = result.config.upses[0];
  if (!ups) return reportInvalid([{ key: 'source', message: 'give --source URI' }]);
  const logger = createLogger({
    level: env.UPS2MQTT_LOG_LEVEL ?? 'warn',
    format: result.config.log.format,
    isTty: process.stderr.isTTY === true,
  });
  const clock = systemClock;
  // Imported here, not at the top: a bridge run (the common case) never needs them.
  const [{ NutClientRegistry }, { renderCapturePlan }, { readOnce, renderHuman, replayPlan }] =
    await Promise.all([
      import('../sources/nut/registry.ts'),
      import('../sources/hid/capture-plan.ts'),
      import('./status.ts'),
    ]);
  const registry = new NutClientRegistry(
    {
      timeoutMs: result.config.nut.timeoutMs,
      ca: result.config.nut.caFile === '' ? undefined : readFileSync(result.config.nut.caFile),
    },
    logger,
    clock,
  );
  const deps = {
    logger,
    clock,
    nis: result.config.nis,
    nut: { registry, knownCommands: KNOWN_COMMANDS },
  };
  try {
    const plan = await replayPlan(ups.spec);
    if (plan) {
      process.stdout.write(
        args.json ? `${JSON.stringify(plan, null, 2)}\n` : renderCapturePlan(plan),
      );
      return 0;
    }
    // `nut://host` reads every UPS of that upsd: the output is then one state per UPS name.
    const many = await expandNutWildcards([ups], {
      list: (spec) => registry.listUpses(spec),
      logger,
      clock,
      retry: false,
    });
    if (many.length === 1 && many[0]?.spec === ups.spec) {
      const state = await readOnce(ups.spec, deps);
      process.stdout.write(args.json ? `${JSON.stringify(state, null, 2)}\n` : renderHuman(state));
      return 0;
    }
    const states: Record<string, unknown> = {};
    let human = '';
    for (const one of many) {
      const name = one.spec.kind === 'nut' ? one.spec.ups : (one.id ?? one.source);
      const state = await readOnce(one.spec, deps);
      states[name] = state;
      human += `${human === '' ? '' : '\n'}== ${name} ==\n${renderHuman(state)}`;
    }
    process.stdout.write(args.json ? `${JSON.stringify(states, null, 2)}\n` : human);
    return 0;
  } catch (err) {
    const code = isUps2MqttError(err) ? ` [${err.code}]` : '';
    // The URI as given may hold a password: never print it (nor log it) unmasked.
    process.stderr.write(
      `ups2mqtt: cannot read ${maskUri(ups.source)}: ${err instanceof Error ? err.message : String(err)}${code}\n`,
    );
    return isUps2MqttError(err, 'SOURCE_UNSUPPORTED') ? EXIT_CONFIG : 1;
  }
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `ups2mqtt: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 70;
  },
);
