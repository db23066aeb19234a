/**
 * Renders addon/icon.png (128×128) and addon/logo.png (250×100) from inline SVG with the
 * headless Chromium the browser test uses. Run by hand after changing the artwork:
 *
 *   node --import tsx test/unit/packaging/render-addon-images.ts
 *
 * (Not a test: addon-images.test.ts checks the committed files.)
 */
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const GLYPH = `
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#3b82f6"/><stop offset="1" stop-color="#1d4ed8"/>
    </linearGradient>
  </defs>
  <rect x="4" y="4" width="120" height="120" rx="26" fill="url(#bg)"/>
  <rect x="34" y="18" width="60" height="92" rx="10" fill="#ffffff"/>
  <rect x="44" y="28" width="40" height="16" rx="4" fill="#1d4ed8" opacity=".9"/>
  <circle cx="50" cy="98" r="4" fill="#22c55e"/>
  <path d="M69 50 52 78h13l-5 22 19-30H66z" fill="#facc15" stroke="#b45309" stroke-width="1.5" stroke-linejoin="round"/>
`;

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128">${GLYPH}</svg>`;

const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" width="250" height="100" viewBox="0 0 250 100">
  <g transform="translate(4 10) scale(0.625)">${GLYPH}</g>
  <text x="92" y="52" font-family="DejaVu Sans, Arial, sans-serif" font-weight="700" font-size="28" textLength="150" lengthAdjust="spacingAndGlyphs" fill="#1d4ed8">ups2mqtt</text>
  <text x="93" y="74" font-family="DejaVu Sans, Arial, sans-serif" font-size="13" fill="#6b7280">UPS → MQTT bridge</text>
</svg>`;

async function render(svg: string, width: number, height: number, path: string): Promise<void> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width, height } });
    await page.setContent(
      `<html><body style="margin:0;background:transparent">${svg}</body></html>`,
    );
    await page.screenshot({ path, omitBackground: true, clip: { x: 0, y: 0, width, height } });
  } finally {
    await browser.close();
  }
}

const addon = (name: string): string =>
  fileURLToPath(new URL(`../../../addon/${name}`, import.meta.url));
await render(ICON, 128, 128, addon('icon.png'));
await render(LOGO, 250, 100, addon('logo.png'));
