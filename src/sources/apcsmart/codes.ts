/** Bytes of the Smart protocol that are not printable letters (docs/protocols/apcsmart.md#queries, #actions). */

export const CTRL_A = '\x01';
export const CTRL_N = '\x0e';
export const CTRL_Z = '\x1a';
export const DEL = '\x7f';
export const ESC = '\x1b';

/** A request byte as people read it: `Y`, `^A`, `DEL`. */
export function describeCmd(cmd: string): string {
  if (cmd === DEL) return 'DEL';
  if (cmd === ESC) return 'ESC';
  const code = cmd.charCodeAt(0);
  if (cmd.length === 1 && code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
  return cmd;
}
