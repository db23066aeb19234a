import type { Clock } from '../core/clock.ts';
import { Ups2MqttError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { UpsSource } from '../core/source.ts';
import type { NutClientRegistry } from './nut/registry.ts';
import type { SourceSpec } from './uri.ts';

/** Settings every source factory may use (slices of AppConfig). */
export interface SourceDeps {
  logger: Logger;
  clock: Clock;
  nis: { timeoutMs: number; eventsIntervalMs: number; reuseConnection?: boolean };
  /** How often the UPS is read (`nut://` paces its reconnect attempts by it). */
  pollIntervalMs?: number;
  /**
   * For `nut://`: the connections shared per upsd (one registry per process, made by the
   * composition root) and the command names the command framework knows.
   */
  nut?: { registry: NutClientRegistry; knownCommands: ReadonlySet<string> };
}

/** Source kinds this build can serve. */
export const AVAILABLE_SOURCE_KINDS: ReadonlySet<SourceSpec['kind']> = new Set([
  'nis',
  'sim',
  'apcsmart',
  'hid',
  'hid-replay',
  'nut',
]);

/**
 * Creates the source for a URI. Modules are imported on demand, so a NIS-only run never
 * loads native code (node-hid, serialport).
 */
export async function createSource(spec: SourceSpec, deps: SourceDeps): Promise<UpsSource> {
  switch (spec.kind) {
    case 'nis': {
      const { createNisSource } = await import('./nis/source.ts');
      return createNisSource(spec, {
        logger: deps.logger,
        clock: deps.clock,
        connectTimeoutMs: deps.nis.timeoutMs,
        readTimeoutMs: deps.nis.timeoutMs,
        eventsIntervalMs: deps.nis.eventsIntervalMs,
        reuseConnection: deps.nis.reuseConnection ?? true,
      });
    }
    case 'sim': {
      const { createSimSource } = await import('./sim/source.ts');
      return createSimSource(spec, { logger: deps.logger, clock: deps.clock });
    }
    case 'apcsmart': {
      const { createApcSmartSource } = await import('./apcsmart/source.ts');
      return createApcSmartSource(spec, { logger: deps.logger, clock: deps.clock });
    }
    case 'hid': {
      const { createHidSource } = await import('./hid/create.ts');
      return createHidSource(spec, { logger: deps.logger, clock: deps.clock });
    }
    case 'hid-replay': {
      const { createHidReplaySource } = await import('./hid/create.ts');
      return createHidReplaySource(spec, { logger: deps.logger, clock: deps.clock });
    }
    case 'nut': {
      if (deps.nut === undefined) {
        throw new Ups2MqttError('SOURCE_UNSUPPORTED', 'nut:// needs the NUT connection registry');
      }
      const { createNutSource } = await import('./nut/source.ts');
      return createNutSource(spec, {
        registry: deps.nut.registry,
        knownCommands: deps.nut.knownCommands,
        logger: deps.logger,
        clock: deps.clock,
        pollIntervalMs: deps.pollIntervalMs,
      });
    }
    default:
      throw new Ups2MqttError(
        'SOURCE_UNSUPPORTED',
        `source kind "${(spec as SourceSpec).kind}" is not available in this version (available: ${[...AVAILABLE_SOURCE_KINDS].join(', ')})`,
      );
  }
}
