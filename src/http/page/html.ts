/**
 * The status page's HTML shell. Every URL in it is relative (`app.js`, not `/app.js`), so
 * the page works at `/` and under Home Assistant's ingress prefix
 * (`/api/hassio_ingress/<token>/`) alike; nothing is loaded from another origin.
 */

/** A small UPS glyph, shared by the header and the favicon. */
export const LOGO_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">' +
  '<rect x="6" y="3" width="20" height="26" rx="4" fill="#1f6feb"/>' +
  '<rect x="10" y="7" width="12" height="6" rx="1.5" fill="#ffffff" opacity=".9"/>' +
  '<path d="M17.5 15.5 12.5 22h3.5l-1.5 5 5-6.5H16z" fill="#facc15"/>' +
  '</svg>';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page; `version` is shown in the footer. */
export function pageHtml(version: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>ups2mqtt status</title>
<link rel="icon" href="favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="app.css">
<script src="app.js" defer></script>
</head>
<body>
<header class="top">
  <div class="brand">${LOGO_SVG}<span>ups2mqtt</span></div>
  <div class="pills">
    <span id="mqtt" class="pill">MQTT</span>
    <span id="health" class="pill">Health</span>
  </div>
</header>
<main id="upses" aria-live="polite"><p class="empty">Loading…</p></main>
<footer class="page">
  <span id="updated">Waiting for the bridge…</span> ·
  <a href="healthz">health</a> · <a href="metrics">metrics</a> ·
  ups2mqtt ${escapeHtml(version)}
</footer>
</body>
</html>
`;
}
