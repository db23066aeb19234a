import { APCUPSD_FLAG_BITS } from '../../core/apcupsd.ts';
import type { UpsFlags } from '../../core/state.ts';

/**
 * Boolean UPS flags from apcupsd's STATFLAG and STATUS (docs/protocols/nis.md#status-words-and-statflag-bits
 * "STATFLAG first"). Pure.
 */

/** What the flags are derived from: raw values of one status reply. */
export interface NisFlagInputs {
  /** STATFLAG as a number, when it parsed. */
  statflag?: number | undefined;
  /** STATUS words as sent (trimmed). */
  status?: string | undefined;
  /** BCHARGE, percent. */
  batteryChargePct?: number | undefined;
  /** SELFTEST code as sent (`NO`, `OK`, `IP`…). */
  selfTestCode?: string | undefined;
  /** LASTXFER text. */
  lastTransfer?: string | undefined;
}

/**
 * Derives every flag NIS can tell, as explicit booleans; a flag that cannot be known is
 * left out. STATFLAG is authoritative; the STATUS words are the fallback, except that
 * `COMMLOST`/`SHUTTING DOWN` in STATUS always count, and `NOBATT` comes only from STATUS:
 * releases before 3.14.14 lack the battery-present bit (3.10.17 sends `0x02000008` with a
 * battery fitted).
 */
export function deriveNisFlags(input: NisFlagInputs): UpsFlags {
  const words = input.status === undefined ? undefined : statusWords(input.status);
  const saysShutdown = words?.has('SHUTTING DOWN') === true;
  const saysCommLost = words?.has('COMMLOST') === true;
  // COMMLOST and SHUTTING DOWN replace every other word (docs/protocols/nis.md#status-words-and-statflag-bits): the rest cannot be read there.
  const wordsComplete = words !== undefined && !saysShutdown && !saysCommLost;

  const flags: UpsFlags = {};
  if (input.statflag !== undefined) {
    for (const [flag, bit] of APCUPSD_FLAG_BITS) flags[flag] = (input.statflag & bit) !== 0;
  } else if (wordsComplete) {
    for (const [flag, , word] of APCUPSD_FLAG_BITS) flags[flag] = words.has(word);
  } else if (saysCommLost) {
    // SHUTTING DOWN is applied after COMMLOST and wins, so COMMLOST alone rules it out.
    flags.shutting_down = false;
  }
  if (saysCommLost) flags.comm_lost = true;
  if (saysShutdown) flags.shutting_down = true;
  if (wordsComplete) flags.battery_missing = words.has('NOBATT');

  if (flags.comm_lost === true) {
    // The ONLINE bit stays set while apcupsd has lost the UPS (docs/protocols/nis.md#connections-and-timeouts, `0x05000508`): stale.
    delete flags.online;
    delete flags.on_battery;
  } else {
    deriveBatteryFlow(flags, input.batteryChargePct);
  }
  deriveTestInProgress(flags, input);
  return flags;
}

/** NIS has no charging flag (docs/mqtt.md#keys): infer it from mains + charge below 100 %. */
function deriveBatteryFlow(flags: UpsFlags, charge: number | undefined): void {
  if (flags.on_battery === undefined) return;
  flags.discharging = flags.on_battery;
  if (flags.online !== undefined && charge !== undefined) {
    flags.charging = flags.online && !flags.on_battery && charge < 100;
  }
}

/** docs/mqtt.md#keys testInProgress: SELFTEST `IP`, or on battery with LASTXFER naming a self test. */
function deriveTestInProgress(flags: UpsFlags, input: NisFlagInputs): void {
  const code = input.selfTestCode?.trim().toUpperCase();
  if (code === undefined && flags.on_battery === undefined) return;
  const byTransfer = flags.on_battery === true && /self\s*test/i.test(input.lastTransfer ?? '');
  flags.test_in_progress = code === 'IP' || byTransfer;
}

/** STATUS as a set of words, with the two-word `SHUTTING DOWN` kept as one. */
function statusWords(status: string): Set<string> {
  const upper = status.trim().toUpperCase();
  const words = new Set<string>();
  const rest = upper.replace(/\bSHUTTING\s+DOWN\b/g, () => {
    words.add('SHUTTING DOWN');
    return ' ';
  });
  for (const word of rest.split(/\s+/)) if (word !== '') words.add(word);
  return words;
}
