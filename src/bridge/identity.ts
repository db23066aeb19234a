import type { UpsIdentityInfo } from '../core/ports.ts';
import { isUsableSerial, slugify, type UpsState } from '../core/state.ts';

/**
 * The id of a UPS without a configured one: its serial number slugified, stable across
 * restarts; else (no serial, or a placeholder such as "Blank") a slug of the source URI.
 */
export function derivedUpsId(
  serial: string | undefined,
  sourceDescription: string,
): { id: string; fromSerial: boolean } {
  if (isUsableSerial(serial)) return { id: slugify(serial), fromSerial: true };
  return { id: slugify(sourceDescription) || 'ups', fromSerial: false };
}

/**
 * Device identity for discovery: identifiers from the serial so the same UPS stays the same
 * device whatever its id (docs/homeassistant.md#device-block); the name from the config, else the name stored in
 * the UPS, else its model.
 */
export function identityFor(
  upsId: string,
  state: UpsState,
  configuredName: string | undefined,
): UpsIdentityInfo {
  const deviceIdentifier = `ups2mqtt_${isUsableSerial(state.serial_number) ? slugify(state.serial_number) : upsId}`;
  const name = configuredName ?? (state.ups_name?.trim() || state.model?.trim() || upsId);
  return { upsId, deviceIdentifier, name };
}
