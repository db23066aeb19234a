/**
 * The status page's script (served as `app.js`): plain browser JavaScript, no framework,
 * no CDN. It polls `api/status` (a RELATIVE URL, so Home Assistant's ingress prefix is
 * kept) every two seconds, keeps the chart points it was sent and asks only for newer
 * ones. This part holds the polling and the merge of new data; script-common.ts,
 * script-cards.ts and script-charts.ts hold the rest, all joined in one function scope.
 */
import { CARDS_JS } from './script-cards.ts';
import { CHARTS_JS } from './script-charts.ts';
import { COMMON_JS } from './script-common.ts';

const DATA_JS = String.raw`  function merge(card, points) {
    var res = model.resolutionMs;
    points.forEach(function (p) {
      var last = card.points[card.points.length - 1];
      if (last && Math.floor(last[0] / res) === Math.floor(p[0] / res)) card.points[card.points.length - 1] = p;
      else if (!last || p[0] > last[0]) card.points.push(p);
    });
    var oldest = model.now - model.windowMs;
    while (card.points.length && card.points[0][0] < oldest) card.points.shift();
  }

  function setPill(id, text, cls, title) {
    var p = $(id);
    p.textContent = text;
    p.className = 'pill ' + cls;
    p.title = title || '';
  }

  function apply(data) {
    if (model.since !== null && data.now < model.since) {
      // The bridge restarted: its history starts over.
      model.cards.forEach(function (c) { c.points = []; });
    }
    model.now = data.now;
    model.windowMs = data.history.window_s * 1000;
    model.resolutionMs = Math.max(1, data.history.resolution_s * 1000);
    model.series = data.history.series;
    var main = $('upses');
    var seen = new Set();
    var unseen = false;
    data.upses.forEach(function (ups) {
      seen.add(ups.key);
      var card = model.cards.get(ups.key);
      if (!card) {
        card = createCard(ups.key);
        model.cards.set(ups.key, card);
        if (model.since !== null) unseen = true;
      }
      updateCard(card, ups);
      merge(card, ups.points);
    });
    model.cards.forEach(function (card, key) {
      if (!seen.has(key)) { card.root.remove(); model.cards.delete(key); }
    });
    var wanted = data.upses.map(function (u) { return model.cards.get(u.key).root; });
    var inOrder = wanted.length === main.children.length && wanted.every(function (n, i) { return main.children[i] === n; });
    if (!inOrder) {
      while (main.firstChild) main.removeChild(main.firstChild);
      wanted.forEach(function (n) { main.appendChild(n); });
      if (!wanted.length) main.appendChild(el('p', 'empty', 'No UPS is configured.'));
    }
    // A UPS that appeared (its id became known) needs its whole history once.
    model.since = unseen ? null : data.now;

    var health = data.health;
    setPill('mqtt', health.mqtt.connected ? 'MQTT connected' : 'MQTT disconnected', health.mqtt.connected ? 'ok' : 'bad');
    var reasons = health.reasons.map(function (r) { return r.message; }).join('\n');
    setPill('health', health.status === 'ok' ? 'Healthy' : 'Unhealthy: ' + health.reasons.length + ' problem' + (health.reasons.length === 1 ? '' : 's'),
      health.status === 'ok' ? 'ok' : 'bad', reasons);
    drawAll();
  }

  function tick() {
    var url = 'api/status' + (model.since !== null ? '?since=' + model.since : '');
    fetch(url, { cache: 'no-store', headers: { accept: 'application/json' } })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (data) {
        apply(data);
        lastOk = Date.now();
        document.body.dataset.state = 'live';
      })
      .catch(function (err) {
        document.body.dataset.state = 'error';
        setPill('health', 'Bridge unreachable', 'bad', String(err));
      })
      .then(function () { setTimeout(tick, POLL_MS); });
  }

  function showAge() {
    var u = $('updated');
    if (!lastOk) return;
    var s = Math.round((Date.now() - lastOk) / 1000);
    u.textContent = s <= 2 ? 'Live · updated just now' : 'Updated ' + s + ' s ago';
  }

  window.addEventListener('resize', drawAll);
  setInterval(showAge, 1000);
  tick();
`;

/** The whole script, as served. */
export const PAGE_JS = `'use strict';
(function () {
${COMMON_JS}
${CARDS_JS}
${CHARTS_JS}
${DATA_JS}})();
`;
