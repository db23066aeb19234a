/**
 * Status page script, part 2: one card per UPS (header, status badge, four value tiles,
 * footer), built once with createElement and updated in place. Server strings reach the
 * page through textContent only, never as HTML.
 */
export const CARDS_JS = String.raw`  function tile(field, label) {
    var t = el('div', 'tile');
    t.dataset.field = field;
    t.appendChild(el('div', 'label', label));
    var value = el('div', 'value');
    var num = el('span', 'num', '–');
    var unit = el('span', 'unit', '');
    value.appendChild(num);
    value.appendChild(unit);
    t.appendChild(value);
    var hint = el('div', 'hint', '\u00a0');
    t.appendChild(hint);
    return { root: t, num: num, unit: unit, hint: hint };
  }

  function createCard(key) {
    var root = el('article', 'card');
    root.dataset.ups = key;
    var head = el('header', 'card-head');
    var titles = el('div');
    var name = el('h2', '', key);
    var sub = el('div', 'sub', '');
    titles.appendChild(name);
    titles.appendChild(sub);
    var badge = el('span', 'badge', '…');
    badge.dataset.role = 'status';
    head.appendChild(titles);
    head.appendChild(badge);
    root.appendChild(head);
    var banner = el('div', 'banner', '');
    banner.hidden = true;
    root.appendChild(banner);

    var tiles = el('div', 'tiles');
    var charge = tile('battery_charge_pct', 'Battery');
    var bar = el('div', 'bar');
    var fill = el('i');
    bar.appendChild(fill);
    charge.root.insertBefore(bar, charge.hint);
    var runtime = tile('runtime_s', 'Runtime');
    var load = tile('load_pct', 'Load');
    var input = tile('input_voltage_v', 'Input');
    [charge, runtime, load, input].forEach(function (t) { tiles.appendChild(t.root); });
    root.appendChild(tiles);

    var charts = el('div', 'charts');
    var figures = model.series.map(function (s, i) {
      var fig = el('figure', 'chart');
      fig.dataset.series = s.key;
      var cap = el('figcaption');
      cap.appendChild(el('span', '', s.label));
      var now = el('b', '', '–');
      cap.appendChild(now);
      var svg = svgEl('svg', { role: 'img', 'aria-label': s.label + ', last hour' });
      fig.appendChild(cap);
      fig.appendChild(svg);
      charts.appendChild(fig);
      var chart = { series: s, index: i, svg: svg, now: now, hover: null };
      svg.addEventListener('pointermove', function (ev) {
        var r = svg.getBoundingClientRect();
        chart.hover = ev.clientX - r.left;
        drawChart(card, chart);
      });
      svg.addEventListener('pointerleave', function () { chart.hover = null; drawChart(card, chart); });
      return chart;
    });
    root.appendChild(charts);

    var foot = el('footer', 'card-foot');
    var last = el('span', '', '');
    var source = el('span', '', '');
    foot.appendChild(last);
    foot.appendChild(source);
    root.appendChild(foot);

    var card = {
      key: key, root: root, name: name, sub: sub, badge: badge, banner: banner,
      charge: charge, bar: bar, fill: fill, runtime: runtime, load: load, input: input,
      charts: figures, last: last, source: source, points: [], data: null
    };
    return card;
  }

  function setTile(t, num, unit, hint) {
    t.num.textContent = num;
    t.unit.textContent = num === '–' ? '' : unit;
    t.hint.textContent = hint || '\u00a0';
  }

  function updateCard(card, ups) {
    card.data = ups;
    var st = ups.state || {};
    var available = ups.availability === 'online';
    card.name.textContent = ups.name;
    var sub = [st.model, st.serial_number && st.serial_number !== st.model ? 'S/N ' + st.serial_number : null, ups.id ? 'id ' + ups.id : null]
      .filter(Boolean).join(' · ');
    card.sub.textContent = sub;
    var status = available ? (st.status || 'unknown') : (ups.availability === 'unknown' ? 'unknown' : 'comm_lost');
    var s = STATUS[status] || STATUS.unknown;
    card.badge.textContent = available || ups.availability === 'offline' ? s[0] : 'Waiting for data';
    card.badge.className = 'badge ' + s[1];
    card.root.dataset.status = status;
    card.root.dataset.tone = available ? s[1] : 'bad';
    card.root.classList.toggle('offline', !available);
    card.banner.hidden = available;
    card.banner.textContent = ups.availability === 'unknown'
      ? 'Not read yet: waiting for the first reading.'
      : 'Unavailable: the bridge has no fresh reading of this UPS. Values below are the last known.';

    var charge = st.battery_charge_pct;
    var hint = st.on_battery ? 'Discharging' : st.charging ? 'Charging' : charge >= 99.5 ? 'Full' : '';
    if (st.replace_battery) hint = 'Replace battery';
    setTile(card.charge, fixed(charge, 0), '%', hint);
    card.fill.style.width = (isNum(charge) ? Math.max(0, Math.min(100, charge)) : 0) + '%';
    card.bar.className = 'bar' + (charge < 25 || st.low_battery ? ' bad' : st.on_battery ? ' warn' : '');
    var minutes = isNum(st.runtime_s) ? st.runtime_s / 60 : null;
    setTile(card.runtime, isNum(minutes) ? fixed(minutes, minutes < 10 ? 1 : 0) : '–', 'min',
      st.on_battery && isNum(st.time_on_battery_s) ? duration(st.time_on_battery_s) + ' on battery'
        : isNum(minutes) && minutes >= 60 ? duration(st.runtime_s) : 'at this load');
    setTile(card.load, fixed(st.load_pct, 0), '%', isNum(st.load_w) ? fixed(st.load_w, 0) + ' W' : '');
    var inputHint = isNum(st.input_frequency_hz) ? fixed(st.input_frequency_hz, 1) + ' Hz' : '';
    setTile(card.input, fixed(st.input_voltage_v, 0), 'V', st.on_battery ? 'mains lost' : inputHint);
    card.last.textContent = ups.last_reading_at ? 'Last reading ' + clock(Date.parse(ups.last_reading_at), true) : 'No reading yet';
    card.source.textContent = ups.source;
    card.source.title = ups.source;
  }
`;
