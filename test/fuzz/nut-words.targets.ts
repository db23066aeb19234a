/**
 * Fuzz targets of the NUT line splitter (src/util/nut-words.ts), shared by the NUT server and
 * the `nut://` source. The source's reply parser is covered by nut-source.targets.ts.
 */
import fc from 'fast-check';
import { quoteNutWord, splitNutWords } from '../../src/util/nut-words.ts';
import { check, coded, type FuzzTarget, nastyText } from './harness.ts';

/** A word as a NUT peer may send it: plain, or anything when quoted. */
const word = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/),
  nastyText(20),
  fc.constantFrom('', '"', '\\', '\\"', ' ', '\t', 'a b', 'x\\'),
);

export const NUT_WORDS_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'nut-words/any-line',
    runs: 500,
    property: () =>
      fc.property(
        fc.oneof(nastyText(200), fc.string({ maxLength: 300, unit: 'binary' })),
        (line) => {
          const words = coded(() => splitNutWords(line), []);
          check(words.ok, 'threw');
          if (words.value === undefined) return;
          const chars = words.value.reduce((n, w) => n + w.length, 0);
          check(chars <= line.length, `words hold ${chars} chars of a ${line.length}-char line`);
          check(words.value.length <= line.length, 'more words than characters');
        },
      ),
  },
  {
    name: 'nut-words/quoted-round-trip',
    runs: 500,
    property: () =>
      fc.property(
        fc.array(word, { maxLength: 10 }),
        fc.constantFrom(' ', '  ', '\t', ' \t '),
        (words, sep) => {
          const line = words.map(quoteNutWord).join(sep);
          const back = coded(() => splitNutWords(line), []);
          check(
            back.ok && JSON.stringify(back.value) === JSON.stringify(words),
            'round trip lost words',
          );
        },
      ),
  },
  {
    name: 'nut-words/truncated-line',
    runs: 300,
    property: () =>
      fc.property(fc.array(word, { minLength: 1, maxLength: 8 }), fc.nat(), (words, at) => {
        const line = words.map(quoteNutWord).join(' ');
        const cutLine = line.slice(0, at % (line.length + 1));
        const got = coded(() => splitNutWords(cutLine), []);
        check(got.ok, 'threw');
      }),
  },
];
