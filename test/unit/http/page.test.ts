import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Script } from 'node:vm';
import { LOGO_SVG, pageHtml } from '../../../src/http/page/html.ts';
import { PAGE_JS } from '../../../src/http/page/script.ts';
import { PAGE_CSS } from '../../../src/http/page/style.ts';

/** Every URL-ish attribute value in the HTML (href, src, action). */
function htmlUrls(html: string): string[] {
  return [...html.matchAll(/\s(?:href|src|action)="([^"]*)"/g)].map((m) => m[1] ?? '');
}

describe('status page assets', () => {
  it('the HTML uses relative URLs only (ingress serves it under a path prefix)', () => {
    const urls = htmlUrls(pageHtml('1.0.0'));
    assert.deepEqual(urls.sort(), ['app.css', 'app.js', 'favicon.svg', 'healthz', 'metrics']);
    for (const url of urls) {
      assert.doesNotMatch(url, /^(\/|[a-z]+:)/i, `absolute URL ${url}`);
    }
  });

  it('escapes the version it embeds', () => {
    assert.match(pageHtml('<b>'), /ups2mqtt &#60;b&#62;/);
  });

  it('the script parses and fetches a relative URL only', () => {
    assert.doesNotThrow(() => new Script(PAGE_JS, { filename: 'app.js' }));
    const fetched = [...PAGE_JS.matchAll(/fetch\(([^,)]+)/g)].map((m) => m[1]);
    assert.deepEqual(fetched, ['url']);
    assert.match(PAGE_JS, /var url = 'api\/status'/);
    // No other origin anywhere: the only absolute URL is the SVG namespace name.
    const absolute = [...PAGE_JS.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^'"\s]*/gi)].map(
      (m) => m[0],
    );
    assert.deepEqual(absolute, ['http://www.w3.org/2000/svg']);
  });

  it('the script never writes server text as HTML', () => {
    assert.doesNotMatch(PAGE_JS, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  it('the stylesheet loads nothing (no url(), no @import)', () => {
    assert.doesNotMatch(PAGE_CSS, /url\(|@import/);
  });

  it('the logo is an SVG without external references', () => {
    assert.match(LOGO_SVG, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.doesNotMatch(LOGO_SVG, /href|url\(/);
  });
});
