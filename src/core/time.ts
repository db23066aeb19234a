/** ISO 8601 in the host's local offset (e.g. `2026-11-21T07:05:00.123+01:00`). */
export function isoWithOffset(at: Date): string {
  const offMin = -at.getTimezoneOffset();
  const local = new Date(at.getTime() + offMin * 60_000).toISOString().slice(0, -1);
  if (offMin === 0) return `${local}Z`;
  const sign = offMin > 0 ? '+' : '-';
  const abs = Math.abs(offMin);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}${sign}${hh}:${mm}`;
}
