/**
 * The add-on store images (docs/homeassistant.md#add-on-packaging: icon square ~128×128, logo ~250×100)
 * and the README screenshot are real PNGs of the right size. The artwork is rendered by
 * render-addon-images.ts; the screenshot by the browser test.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width, height and colour type from the IHDR chunk, after checking the chunk's CRC. */
function pngHeader(file: URL): { width: number; height: number; colorType: number } {
  const png = readFileSync(file);
  assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE, 'PNG signature');
  assert.equal(png.toString('latin1', 12, 16), 'IHDR');
  const length = png.readUInt32BE(8);
  const crc = png.readUInt32BE(16 + length);
  assert.equal(crc32(png.subarray(12, 16 + length)), crc, 'IHDR CRC');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20), colorType: png[25] ?? -1 };
}

const at = (path: string): URL => new URL(`../../../${path}`, import.meta.url);

describe('images', () => {
  const cases: [string, number, number][] = [
    ['addon/icon.png', 128, 128],
    ['addon/logo.png', 250, 100],
  ];
  for (const [path, width, height] of cases) {
    it(`${path} is a ${width}×${height} PNG with transparency`, () => {
      const header = pngHeader(at(path));
      assert.deepEqual([header.width, header.height], [width, height]);
      assert.equal(header.colorType, 6, 'RGBA');
    });
  }

  it('the README shows docs/img/status-page.png', () => {
    assert.match(
      readFileSync(at('README.md'), 'utf8'),
      /!\[[^\]]+\]\(docs\/img\/status-page\.png\)/,
    );
    if (existsSync(at('docs/img/status-page.png'))) {
      const { width } = pngHeader(at('docs/img/status-page.png'));
      assert.equal(width, 1280);
    }
  });
});
