/** The status page's stylesheet (light and dark, follows the system setting). */
export const PAGE_CSS = `:root {
  --bg: #f3f5f8; --card: #ffffff; --text: #18212d; --muted: #667085; --line: #e3e7ed;
  --tile: #f7f8fa;
  --ok: #15803d; --ok-bg: #dcfce7; --warn: #b45309; --warn-bg: #fef3c7;
  --bad: #b91c1c; --bad-bg: #fee2e2; --info: #1d4ed8; --info-bg: #dbeafe;
  --shadow: 0 1px 2px rgba(16, 24, 40, .05), 0 6px 16px rgba(16, 24, 40, .06);
  --s0: #16a34a; --s1: #2563eb; --s2: #d97706; --s3: #7c3aed;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e131a; --card: #161d27; --text: #e7ebf1; --muted: #97a1b2; --line: #283242;
    --tile: #1b2330;
    --ok: #4ade80; --ok-bg: rgba(74, 222, 128, .14); --warn: #fbbf24; --warn-bg: rgba(251, 191, 36, .14);
    --bad: #f87171; --bad-bg: rgba(248, 113, 113, .15); --info: #60a5fa; --info-bg: rgba(96, 165, 250, .15);
    --shadow: 0 0 0 transparent;
    --s0: #4ade80; --s1: #60a5fa; --s2: #fbbf24; --s3: #a78bfa;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
a { color: inherit; }
.top {
  display: flex; align-items: center; justify-content: space-between; gap: 12px;
  padding: 12px 24px; background: var(--card); border-bottom: 1px solid var(--line);
}
.brand { display: flex; align-items: center; gap: 10px; font-weight: 700; font-size: 17px; }
.pills { display: flex; flex-wrap: wrap; gap: 8px; }
.pill {
  display: inline-flex; align-items: center; gap: 6px; padding: 4px 11px; border-radius: 999px;
  font-size: 12.5px; font-weight: 600; background: var(--tile); color: var(--muted);
  border: 1px solid var(--line);
}
.pill::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: currentColor; }
.badge {
  display: inline-flex; align-items: center; gap: 6px;
  padding: 5px 12px; border-radius: 999px; font-weight: 700; font-size: 13px; white-space: nowrap;
  background: var(--tile); color: var(--muted);
}
.badge::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: currentColor; }
.ok { background: var(--ok-bg); color: var(--ok); border-color: transparent; }
.warn { background: var(--warn-bg); color: var(--warn); border-color: transparent; }
.bad { background: var(--bad-bg); color: var(--bad); border-color: transparent; }
.info { background: var(--info-bg); color: var(--info); border-color: transparent; }
main {
  max-width: 1240px; margin: 0 auto; padding: 24px; display: grid; gap: 24px;
  grid-template-columns: repeat(auto-fit, minmax(min(100%, 540px), 1fr));
}
.empty { color: var(--muted); text-align: center; grid-column: 1 / -1; padding: 48px 0; }
.card {
  background: var(--card); border: 1px solid var(--line); border-radius: 14px;
  box-shadow: var(--shadow); padding: 20px; display: flex; flex-direction: column; gap: 16px;
  min-width: 0;
}
.card[data-tone="warn"] { box-shadow: inset 0 4px 0 var(--warn), var(--shadow); }
.card[data-tone="bad"] { box-shadow: inset 0 4px 0 var(--bad), var(--shadow); }
.card-head { display: flex; justify-content: space-between; align-items: flex-start; gap: 12px; }
.card-head h2 { margin: 0; font-size: 19px; line-height: 1.25; }
.sub { color: var(--muted); font-size: 12.5px; margin-top: 2px; }
.banner {
  background: var(--bad-bg); color: var(--bad); border-radius: 8px; padding: 8px 12px;
  font-weight: 600; font-size: 13px;
}
.banner[hidden] { display: none; }
.tiles { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 10px; }
@media (max-width: 620px) { .tiles { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
.tile { background: var(--tile); border-radius: 10px; padding: 11px 12px; min-width: 0; }
.tile .label {
  color: var(--muted); font-size: 11.5px; font-weight: 650; letter-spacing: .05em;
  text-transform: uppercase;
}
.tile .value {
  font-size: 25px; font-weight: 700; line-height: 1.2; margin-top: 3px; white-space: nowrap;
  font-variant-numeric: tabular-nums; overflow: hidden; text-overflow: ellipsis;
}
.tile .unit { font-size: 14px; font-weight: 600; color: var(--muted); margin-left: 3px; }
.tile .hint { color: var(--muted); font-size: 12px; margin-top: 2px; line-height: 1.3; }
.bar { height: 6px; border-radius: 3px; background: var(--line); margin-top: 8px; overflow: hidden; }
.bar > i { display: block; height: 100%; width: 0; border-radius: 3px; background: var(--ok); transition: width .6s ease; }
.bar.warn > i { background: var(--warn); }
.bar.bad > i { background: var(--bad); }
.charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px; }
@media (max-width: 620px) { .charts { grid-template-columns: minmax(0, 1fr); } }
.chart { margin: 0; border: 1px solid var(--line); border-radius: 10px; padding: 9px 10px 4px; min-width: 0; }
.chart figcaption { display: flex; justify-content: space-between; gap: 8px; font-size: 12.5px; font-weight: 600; color: var(--muted); }
.chart figcaption b { color: var(--text); font-variant-numeric: tabular-nums; }
.chart svg { display: block; width: 100%; height: 118px; margin-top: 4px; touch-action: none; }
.chart text { font-size: 10.5px; fill: var(--muted); font-variant-numeric: tabular-nums; }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.chart .line { fill: none; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
.chart .area { stroke: none; opacity: .13; }
.chart .cursor { stroke: var(--muted); stroke-dasharray: 3 3; }
.chart .tip { font-weight: 700; fill: var(--text); }
.chart .nodata { font-size: 12px; }
.card.offline .tiles, .card.offline .charts { opacity: .6; }
.card-foot { color: var(--muted); font-size: 12px; display: flex; justify-content: space-between; gap: 12px; margin-top: auto; }
.card-foot span { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; flex: none; }
.card-foot span + span { flex: 0 1 auto; min-width: 0; text-align: right; }
footer.page { text-align: center; color: var(--muted); font-size: 12.5px; padding: 0 24px 28px; }
`;
