import type { CommandArgs } from '../core/source.ts';

/** Largest command payload accepted; anything longer is refused unread. */
export const MAX_COMMAND_PAYLOAD_BYTES = 1024;
/** Longest delay accepted for delayed commands (shutdown.*), seconds. */
export const MAX_DELAY_S = 7200;

export type ParsedCommand =
  | { ok: true; args: CommandArgs; transaction?: string }
  | { ok: false; code: 'payload_too_large' | 'bad_payload'; message: string; transaction?: string };

/**
 * Parses a command payload: empty or `PRESS` (a Home Assistant button), or a JSON object
 * `{"transaction": "…", "delay_s": N}`. Anything else is refused with a reason.
 */
export function parseCommandPayload(payload: Buffer): ParsedCommand {
  if (payload.length > MAX_COMMAND_PAYLOAD_BYTES) {
    return {
      ok: false,
      code: 'payload_too_large',
      message: `payload over ${MAX_COMMAND_PAYLOAD_BYTES} bytes`,
    };
  }
  const text = payload.toString('utf8').trim();
  if (text === '' || text === 'PRESS') return { ok: true, args: {} };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {
      ok: false,
      code: 'bad_payload',
      message: 'expected an empty payload, PRESS, or a JSON object',
    };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, code: 'bad_payload', message: 'expected a JSON object' };
  }
  const obj = json as Record<string, unknown>;
  let transaction: string | undefined;
  if (obj.transaction !== undefined) {
    if (typeof obj.transaction !== 'string' || obj.transaction.length > 128) {
      return {
        ok: false,
        code: 'bad_payload',
        message: 'transaction must be a string of at most 128 characters',
      };
    }
    transaction = obj.transaction;
  }
  const withTx = <T extends object>(r: T): T & { transaction?: string } =>
    transaction === undefined ? r : { ...r, transaction };
  for (const key of Object.keys(obj)) {
    if (key !== 'transaction' && key !== 'delay_s') {
      return withTx({
        ok: false as const,
        code: 'bad_payload' as const,
        message: `unknown key "${key}"`,
      });
    }
  }
  const args: CommandArgs = {};
  if (obj.delay_s !== undefined) {
    const d = obj.delay_s;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > MAX_DELAY_S) {
      return withTx({
        ok: false as const,
        code: 'bad_payload' as const,
        message: `delay_s must be a whole number from 0 to ${MAX_DELAY_S}`,
      });
    }
    args.delay_s = d;
  }
  return withTx({ ok: true as const, args });
}
