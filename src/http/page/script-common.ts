/**
 * Status page script, part 1: constants, the page model and small DOM/format helpers.
 * The parts are plain browser JavaScript kept as strings (the build copies only compiled
 * TypeScript) and are joined inside one function scope by script.ts. No template literals
 * inside: the text lives in one.
 */
export const COMMON_JS = String.raw`  var POLL_MS = 2000;
  var MIN_SPAN_MS = 10 * 1000;
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var STATUS = {
    online: ['Online', 'ok'],
    on_battery: ['On battery', 'warn'],
    low_battery: ['Low battery', 'bad'],
    calibrating: ['Calibrating', 'info'],
    overload: ['Overload', 'bad'],
    output_off: ['Output off', 'bad'],
    comm_lost: ['Communication lost', 'bad'],
    shutting_down: ['Shutting down', 'bad'],
    other: ['Other (see status text)', ''],
    unknown: ['Unknown', '']
  };
  var model = { since: null, now: 0, windowMs: 3600000, resolutionMs: 1000, series: [], cards: new Map() };
  var lastOk = 0;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svgEl(tag, attrs) {
    var e = document.createElementNS(SVG_NS, tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function isNum(v) { return typeof v === 'number' && isFinite(v); }
  function fixed(v, digits) { return isNum(v) ? v.toFixed(digits).replace(/\.0+$/, '') : '–'; }
  function pad2(n) { return (n < 10 ? '0' : '') + n; }
  function clock(t, seconds) {
    var d = new Date(t);
    return pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + (seconds ? ':' + pad2(d.getSeconds()) : '');
  }
  function duration(s) {
    if (!isNum(s)) return '–';
    s = Math.max(0, Math.round(s));
    if (s < 60) return s + ' s';
    var m = Math.round(s / 60);
    if (m < 60) return m + ' min';
    return Math.floor(m / 60) + ' h ' + pad2(m % 60) + ' min';
  }
  function seriesValue(key, v) {
    if (!isNum(v)) return '–';
    if (key === 'runtime_s') return duration(v);
    if (key === 'input_voltage_v') return fixed(v, 1) + ' V';
    return fixed(v, 1) + ' %';
  }
  function axisValue(key, v) {
    if (key === 'runtime_s') return Math.round(v / 60) + ' min';
    return String(Math.round(v));
  }
`;
