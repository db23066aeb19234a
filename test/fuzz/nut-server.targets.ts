/**
 * Fuzz targets of the upsd-compatible NUT server: one session's request handling
 * (src/servers/nut/protocol.ts: login order, INSTCMD rights, GET/LIST with any arguments)
 * read back through the `nut://` source's own reply parser (nut-server-session.ts), and
 * whole byte streams cut at any point through a real NutServer on a loopback port
 * (server.ts: framing, line bound, flow control, LOGOUT; nut-server-stream.ts).
 */
import fc from 'fast-check';
import { bytes, type FuzzTarget, nastyText, splitPoints } from './harness.ts';
import { requestLine, runSession, served } from './nut-server-session.ts';
import { checkStream, MAX_LINE } from './nut-server-stream.ts';

export { checkStream, runSession };

/** Request lines as a client pipelines them, then maybe a partial or endless last line. */
const lineStream: fc.Arbitrary<Buffer> = fc
  .tuple(
    fc.array(
      fc.oneof(
        { weight: 30, arbitrary: requestLine },
        {
          weight: 3,
          arbitrary: fc.constantFrom('LIST VAR ups', 'GET VAR ups device.model'),
        },
        { weight: 1, arbitrary: fc.constant('LOGOUT') },
      ),
      { maxLength: 150, size: 'medium' },
    ),
    fc.constantFrom('\n', '\r\n'),
    fc.oneof(
      fc.constant(''),
      nastyText(20).map((t) => t.replace(/\n/g, '')),
      fc.integer({ min: MAX_LINE + 1, max: 8 * MAX_LINE }).map((n) => 'x'.repeat(n)),
    ),
  )
  .map(([lines, eol, tail]) =>
    Buffer.from(lines.map((l) => `${l}${eol}`).join('') + tail, 'latin1'),
  );

export const NUT_SERVER_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'nut-server/session',
    runs: 300,
    property: () =>
      fc.asyncProperty(
        fc.array(requestLine, { maxLength: 12 }),
        served,
        fc.constantFrom(
          [] as string[],
          ['USERNAME admin', 'PASSWORD adminpw'],
          ['USERNAME tester', 'PASSWORD "test pw\\"\\\\"'],
          ['USERNAME mon', 'PASSWORD wrong'],
        ),
        (lines, vars, login) => runSession([...login, ...lines], vars),
      ),
  },
  {
    name: 'nut-server/stream',
    runs: 40,
    property: () =>
      fc.asyncProperty(
        fc.oneof({ weight: 4, arbitrary: lineStream }, { weight: 1, arbitrary: bytes(1024) }),
        splitPoints(),
        checkStream,
      ),
  },
];
