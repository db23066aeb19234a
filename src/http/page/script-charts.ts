/**
 * Status page script, part 3: the charts, drawn as inline SVG sized to the element in
 * pixels (crisp text), with a gap where the UPS reported nothing and a hover read-out.
 */
export const CHARTS_JS = `  function niceRange(lo, hi, series) {
    if (series.min !== null) lo = Math.min(series.min, lo);
    if (series.max !== null) hi = Math.max(series.max, hi);
    if (series.min === null && series.max === null) {
      // Free axis (voltage): a little air around the data, at least 10 units tall.
      var mid = (lo + hi) / 2;
      var half = Math.max(10, (hi - lo) / 2 * 1.15);
      lo = Math.floor((mid - half) / 10) * 10;
      hi = Math.ceil((mid + half) / 10) * 10;
      if (lo < 0) lo = 0;
    } else if (series.max === null) {
      hi = Math.max(hi * 1.15, series.key === 'runtime_s' ? 300 : 1);
      var step = series.key === 'runtime_s' ? 600 : 10;
      hi = Math.ceil(hi / step) * step;
    }
    return [lo, hi];
  }

  function drawChart(card, chart) {
    var svg = chart.svg;
    var w = Math.max(120, Math.round(svg.clientWidth || 300));
    var h = Math.max(60, Math.round(svg.clientHeight || 118));
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var color = 'var(--s' + chart.index + ')';
    var key = chart.series.key;
    var pts = card.points;
    var vi = chart.index + 1;
    var now = model.now || Date.now();
    var first = pts.length ? pts[0][0] : now;
    // The axis spans the history there is (up to the window), so a young history fills it.
    var t0 = Math.max(now - model.windowMs, Math.min(first, now - MIN_SPAN_MS));
    var span = Math.max(1, now - t0);
    var values = [];
    pts.forEach(function (p) { if (isNum(p[vi]) && p[0] >= t0) values.push(p[vi]); });
    var latest = null;
    for (var j = pts.length - 1; j >= 0; j--) { if (isNum(pts[j][vi])) { latest = pts[j][vi]; break; } }
    chart.now.textContent = card.data && card.data.availability === 'online' ? seriesValue(key, latest) : '–';

    var L = 44, R = 8, T = 6, B = 18;
    var pw = w - L - R, ph = h - T - B;
    var range = values.length ? niceRange(Math.min.apply(null, values), Math.max.apply(null, values), chart.series)
      : niceRange(chart.series.min !== null ? chart.series.min : 0, chart.series.max !== null ? chart.series.max : 1, chart.series);
    var lo = range[0], hi = range[1] === range[0] ? range[0] + 1 : range[1];
    function x(t) { return L + (t - t0) / span * pw; }
    function y(v) { return T + (1 - (v - lo) / (hi - lo)) * ph; }

    [lo, (lo + hi) / 2, hi].forEach(function (v) {
      svg.appendChild(svgEl('line', { class: 'grid', x1: L, x2: w - R, y1: y(v), y2: y(v) }));
      var label = svgEl('text', { x: L - 6, y: y(v) + 3.5, 'text-anchor': 'end' });
      label.textContent = axisValue(key, v);
      svg.appendChild(label);
    });
    var withSeconds = span < 10 * 60 * 1000;
    [t0, t0 + span / 2, now].forEach(function (t, i) {
      var label = svgEl('text', { x: x(t), y: h - 4, 'text-anchor': i === 0 ? 'start' : i === 2 ? 'end' : 'middle' });
      label.textContent = i === 2 ? 'now' : clock(t, withSeconds);
      svg.appendChild(label);
    });

    // Segments break where the UPS reported nothing (unavailable): a gap, not a fake line.
    var segments = [];
    var current = null;
    pts.forEach(function (p) {
      if (p[0] < t0) return;
      if (isNum(p[vi])) {
        if (!current) { current = []; segments.push(current); }
        current.push([x(p[0]), y(Math.max(lo, Math.min(hi, p[vi])))]);
      } else {
        current = null;
      }
    });
    if (!segments.length) {
      var none = svgEl('text', { class: 'nodata', x: L + pw / 2, y: T + ph / 2 + 4, 'text-anchor': 'middle' });
      none.textContent = 'no data yet';
      svg.appendChild(none);
    }
    segments.forEach(function (seg) {
      var d = seg.map(function (q, i) { return (i ? 'L' : 'M') + q[0].toFixed(1) + ' ' + q[1].toFixed(1); }).join(' ');
      if (seg.length > 1) {
        var base = (T + ph).toFixed(1);
        svg.appendChild(svgEl('path', {
          class: 'area', fill: color,
          d: d + ' L' + seg[seg.length - 1][0].toFixed(1) + ' ' + base + ' L' + seg[0][0].toFixed(1) + ' ' + base + ' Z'
        }));
      }
      svg.appendChild(svgEl('path', { class: 'line', stroke: color, d: d }));
    });
    var lastSeg = segments[segments.length - 1];
    if (lastSeg) {
      var end = lastSeg[lastSeg.length - 1];
      svg.appendChild(svgEl('circle', { cx: end[0], cy: end[1], r: 3.2, fill: color }));
    }

    if (chart.hover !== null && pts.length) {
      var tx = t0 + (chart.hover - L) / pw * span;
      var best = null;
      pts.forEach(function (p) {
        if (p[0] >= t0 && isNum(p[vi]) && (!best || Math.abs(p[0] - tx) < Math.abs(best[0] - tx))) best = p;
      });
      if (best) {
        var bx = x(best[0]);
        svg.appendChild(svgEl('line', { class: 'cursor', x1: bx, x2: bx, y1: T, y2: T + ph }));
        svg.appendChild(svgEl('circle', { cx: bx, cy: y(best[vi]), r: 4, fill: color }));
        var tip = svgEl('text', { class: 'tip', x: bx < L + pw / 2 ? bx + 6 : bx - 6, y: T + 11, 'text-anchor': bx < L + pw / 2 ? 'start' : 'end' });
        tip.textContent = seriesValue(key, best[vi]) + ' · ' + clock(best[0], true);
        svg.appendChild(tip);
      }
    }
  }

  function drawAll() {
    model.cards.forEach(function (card) {
      card.charts.forEach(function (chart) { drawChart(card, chart); });
    });
  }
`;
