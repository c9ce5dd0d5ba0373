// The operator map: live fleet, zones, alerts, commands, plan and
// dispatch, replay. Messages arrive over the WebSocket (see PROTOCOL.md);
// the map and panels redraw on timers and animation frames, never per
// message.
import * as i18n from './i18n.js';
import { t } from './i18n.js';
import { MapView, niceScale } from './map.js';
import { CORRIDORS, explain, STATE_COLORS, JURISDICTION_COLORS, EXCLUSION_COLOR } from './data.js';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'centinela.token';
const TRAIL_POINTS = 80;
const HIST_POINTS = 300; // 5 minutes at 1 Hz
const MSGS_KEPT = 30;

const S = {
  token: sessionStorage.getItem(TOKEN_KEY) || '',
  principal: null,
  config: { patterns: [] },
  ws: null, wsRetry: 500,
  drones: new Map(), commandable: new Map(), routes: new Map(),
  byIx: new Map(), // protocol 2: drone ids by their "ix"
  trails: new Map(), hist: new Map(), msgs: new Map(), zoneState: new Map(),
  failsafe: new Map(), refusal: new Map(), alerts: new Map(),
  zones: [], boundary: [], cities: [],
  selected: null, sortKey: 'name', sortDir: 1, filter: '',
  tool: null, shape: null, preview: null, gotoTarget: null,
  replay: null, fittedOnce: false,
  listDirty: true, detailDirty: true, alertsDirty: true, planDronesDirty: true,
};

let map;

// ---------- start ----------

async function start() {
  const lang = i18n.pickLang();
  await i18n.load(lang, false);
  i18n.setUnits(i18n.savedUnits());
  $('lang').value = lang;
  $('units').value = i18n.currentUnits();
  i18n.apply();
  fillSpeeds();
  buildLegend();

  const frag = new URLSearchParams(location.hash.slice(1));
  if (frag.get('token')) {
    S.token = frag.get('token');
    sessionStorage.setItem(TOKEN_KEY, S.token);
    history.replaceState(null, '', location.pathname + location.search);
  }

  map = new MapView($('map'), { lon: -106.5, lat: 30.2, zoom: 5 });
  map.layers.push(drawZones, drawCities, drawRoutes, drawTrails, drawReplay, drawDrones, drawShape);
  map.onviewchange = updateScale;
  map.onmove = onMapMove;
  map.onclick = onMapClick;
  map.ondblclick = () => { if (S.tool && S.shape) { finishShape(); return true; } return false; };
  updateScale();
  wireUI();

  try {
    S.config = await (await fetch('api/config')).json();
  } catch { /* the page works without it */ }
  if (S.config.tiles) map.setTiles(S.config.tiles);
  fillPatterns();
  try {
    S.cities = await (await fetch('data/cities.json')).json();
  } catch { S.cities = []; }

  setInterval(tickClocks, 1000); tickClocks();
  setInterval(renderPanels, 500);
  if (S.token) signedIn(); else showSignIn();
}

function fillSpeeds() {
  const sel = $('r-speed');
  sel.textContent = '';
  for (const v of [1, 5, 20, 60]) {
    const o = document.createElement('option');
    o.value = v; o.textContent = t('replay.speedx', { n: i18n.num(v) });
    if (v === 20) o.selected = true;
    sel.appendChild(o);
  }
}

function fillPatterns() {
  const sel = $('p-pattern');
  const cur = sel.value;
  sel.textContent = '';
  for (const p of S.config.patterns || []) {
    const o = document.createElement('option');
    o.value = p; o.textContent = t('pattern.' + p);
    sel.appendChild(o);
  }
  if (cur) sel.value = cur;
}

function buildLegend() {
  const el = $('legend');
  el.textContent = '';
  const add = (color, key) => {
    const d = document.createElement('div');
    const i = document.createElement('i'); i.style.background = color;
    d.append(i, t(key));
    el.appendChild(d);
  };
  for (const [k, c] of Object.entries(STATE_COLORS)) add(c, 'state.' + k);
  for (const [k, c] of Object.entries(JURISDICTION_COLORS)) add(c, 'zone.jur.' + k);
  add(EXCLUSION_COLOR, 'zone.kind.exclusion');
}

function relabel() {
  i18n.apply();
  fillSpeeds(); fillPatterns(); buildLegend(); updateScale(); tickClocks();
  if (S.principal) showWho();
  if (!S.ws || S.ws.readyState !== 1) setConn(S.ws ? 'down' : 'connecting'); else setConn('up');
  S.listDirty = S.detailDirty = S.alertsDirty = S.planDronesDirty = true;
  updateShapeText();
  renderPanels();
  map.invalidate();
}

// ---------- sign-in and the socket ----------

function showSignIn(errKey, detail) {
  $('signin').hidden = false;
  const e = $('signin-error');
  e.hidden = !errKey;
  e.textContent = errKey ? t(errKey) + (detail ? ' — ' + detail : '') : '';
  $('token').focus();
}

async function signedIn() {
  try {
    const s = await api('GET', 'api/session');
    S.principal = s.principal;
  } catch (e) {
    sessionStorage.removeItem(TOKEN_KEY);
    S.token = '';
    showSignIn(e.status === 401 ? 'signin.bad' : 'error.network');
    return;
  }
  $('signin').hidden = true;
  showWho();
  applyRole();
  connect();
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  S.token = ''; S.principal = null;
  if (S.ws) { S.ws.onclose = null; S.ws.close(1000); S.ws = null; }
  location.reload();
}

function showWho() {
  const p = S.principal;
  $('who').textContent = t('who', { label: p.label, role: t('role.' + p.role), agency: p.agency || t('value.none') });
}

function isOperator() { return S.principal && S.principal.role === 'operator'; }
function mayEmergency() { return S.principal && (S.principal.role === 'operator' || S.principal.role === 'admin'); }
function mayAck() { return mayEmergency(); }

function applyRole() {
  for (const el of document.querySelectorAll('.op-only')) el.hidden = !isOperator();
  for (const el of document.querySelectorAll('.em-only')) el.hidden = !mayEmergency();
  if (mayEmergency()) $('tools').hidden = false;
  for (const el of document.querySelectorAll('#tools > button:not(.em-only)')) el.hidden = !isOperator();
  S.detailDirty = true;
}

function setConn(state) {
  const el = $('conn');
  el.className = 'conn ' + state;
  el.textContent = t('conn.' + state);
}

function connect() {
  // Protocol 2 (compact positions), or 1 from a server that speaks only it.
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws', ['centinela.v2', 'centinela.v1']);
  S.ws = ws;
  S.byIx.clear();
  setConn('connecting');
  ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: S.token }));
  ws.onmessage = (ev) => {
    const t0 = performance.now();
    onMessage(JSON.parse(ev.data));
    const dt = performance.now() - t0;
    msgStats.n++; msgStats.ms += dt; msgStats.maxMs = Math.max(msgStats.maxMs, dt);
  };
  ws.onclose = (ev) => {
    setConn('down');
    if (ev.code === 4001) { sessionStorage.removeItem(TOKEN_KEY); S.token = ''; showSignIn('signin.bad'); return; }
    setTimeout(() => { if (S.token) connect(); }, S.wsRetry);
    S.wsRetry = Math.min(10000, S.wsRetry * 2);
  };
}

function onMessage(m) {
  switch (m.type) {
    case 'hello':
      S.wsRetry = 500;
      setConn('up');
      S.ws.send(JSON.stringify({ type: 'subscribe', zones: true, routes: true, events: true, max_rate_hz: 5 }));
      break;
    case 'zones': loadZones(m.geojson); break;
    case 'snapshot':
    case 'states':
      for (const d of m.drones) {
        if (d.ix !== undefined) S.byIx.set(d.ix, d.id);
        updateDrone(d);
      }
      if (m.pos) {
        // A drone's status entry, if any, goes with its compact entry.
        const tel = new Map();
        if (m.tel) for (const e of m.tel) tel.set(e[0], e);
        for (const p of m.pos) applyPos(p, tel.get(p[0]));
      }
      if (m.type === 'snapshot' && !S.fittedOnce && S.drones.size) { fitFleet(); S.fittedOnce = true; }
      break;
    case 'control':
      for (const [id, can] of Object.entries(m.commandable)) S.commandable.set(id, can);
      S.detailDirty = S.planDronesDirty = true;
      break;
    case 'route': S.routes.set(m.drone, m.points); map.invalidate(); break;
    case 'alerts':
      S.alerts.clear();
      for (const a of m.alerts) S.alerts.set(a.id, a);
      S.alertsDirty = true;
      break;
    case 'alert': S.alerts.set(m.alert.id, m.alert); S.alertsDirty = true; break;
    case 'event': onEvent(m.event); break;
    case 'missed': toast(t('conn.missed', { n: i18n.num(m.n) })); break;
    case 'error': toast(t('error.' + m.error.code) + ' — ' + m.error.message); break;
  }
}

function onEvent(e) {
  const p = e.params || {};
  switch (e.kind) {
    case 'status_text': {
      let l = S.msgs.get(e.drone);
      if (!l) S.msgs.set(e.drone, l = []);
      l.unshift(e);
      if (l.length > MSGS_KEPT) l.length = MSGS_KEPT;
      if (e.drone === S.selected) S.detailDirty = true;
      break;
    }
    case 'zone_breached': S.zoneState.set(e.drone, 'breached'); break;
    case 'zone_approaching': S.zoneState.set(e.drone, 'approaching'); break;
    case 'zone_back_inside': case 'zone_state':
      if (p.to === 'inside' || e.kind === 'zone_back_inside') S.zoneState.delete(e.drone);
      break;
    case 'failsafe': S.failsafe.set(e.drone, Date.now()); break;
    case 'command_result':
      if (p.code) S.refusal.set(e.drone, e);
      if (e.drone === S.selected) S.detailDirty = true;
      break;
  }
}

// ---------- drones ----------

// applyPos applies a compact entry of protocol 2 (PROTOCOL.md):
// [ix, lat, lon, alt_m, alt_msl_m, heading_deg, speed_ms, climb_ms, t_ms]
// and, on a mission, [pct, remaining_m, eta_s]; then the drone's status
// entry e of the same message, if it has one:
// [ix, battery_pct, voltage_v, current_a, gps_fix, sats, hdop, rate_hz, loss_pct, lost].
// Every other field is as the drone's last full object said.
function applyPos(p, e) {
  const prev = S.drones.get(S.byIx.get(p[0]));
  if (!prev) return; // the server sends a drone's full object first
  const d = Object.assign({}, prev, {
    lat: p[1], lon: p[2], alt_m: p[3], alt_msl_m: p[4], heading_deg: p[5], speed_ms: p[6], climb_ms: p[7],
    last_seen: new Date(p[8]).toISOString(),
  });
  if (p.length >= 12) d.mission = Object.assign({}, prev.mission, { pct: p[9], remaining_m: p[10], eta_s: p[11] });
  msgStats.pos++;
  if (e) {
    d.battery = Object.assign({}, prev.battery, { pct: e[1], voltage_v: e[2], current_a: e[3] });
    d.gps = Object.assign({}, prev.gps, { fix: e[4], sats: e[5], hdop: e[6] });
    d.link_quality = Object.assign({}, prev.link_quality, { rate_hz: e[7], loss_pct: e[8], lost: e[9] });
    msgStats.tel++;
  }
  updateDrone(d);
}

function updateDrone(d) {
  const prev = S.drones.get(d.id);
  S.drones.set(d.id, d);
  const now = Date.now();
  if (d.has_position) {
    let tr = S.trails.get(d.id);
    if (!tr) S.trails.set(d.id, tr = []);
    const last = tr[tr.length - 1];
    if (!last || now - last[2] > 1000 || Math.abs(last[0] - d.lon) + Math.abs(last[1] - d.lat) > 2e-5) {
      tr.push([d.lon, d.lat, now]);
      if (tr.length > TRAIL_POINTS) tr.shift();
    }
  }
  let h = S.hist.get(d.id);
  if (!h) S.hist.set(d.id, h = []);
  if (!h.length || now - h[h.length - 1][0] >= 1000) {
    h.push([now, d.alt_m ?? null, d.speed_ms, d.battery.pct >= 0 ? d.battery.pct : null]);
    if (h.length > HIST_POINTS) h.shift();
  }
  if (!prev) S.planDronesDirty = true;
  S.listDirty = true;
  if (d.id === S.selected) S.detailDirty = true;
  map.invalidate();
}

function stateOf(d) {
  if (d.link_state === 'lost') return 'lost';
  const fs = S.failsafe.get(d.id);
  if ((fs && Date.now() - fs < 60000) || d.system_status === 'CRITICAL' || d.system_status === 'EMERGENCY') return 'failsafe';
  if (S.zoneState.get(d.id) === 'breached' || (d.fence && d.fence.breached)) return 'breached';
  if (/RTL|RETURN/i.test(d.mode || '')) return 'returning';
  if (d.mission && d.mission.state === 'running') return 'mission';
  if (d.flying) return 'flying';
  return 'idle';
}

function fitFleet() {
  const pts = [];
  for (const d of S.drones.values()) if (d.has_position) pts.push([d.lon, d.lat]);
  if (pts.length) map.fit(pts, 80, 14);
  else map.setView(-106.5, 30.2, 5);
}

// ---------- map layers ----------

function loadZones(gj) {
  S.zones = []; S.boundary = [];
  for (const f of gj.features || []) {
    const p = f.properties || {};
    const g = f.geometry;
    if (!g) continue;
    if (g.type === 'LineString') { S.boundary.push({ p, coords: g.coordinates }); continue; }
    const z = { id: p.id || f.id, p, kind: p.kind, jur: p.jurisdiction };
    if (g.type === 'Polygon') z.rings = g.coordinates;
    else if (g.type === 'MultiPolygon') z.rings = g.coordinates.flat();
    else if (g.type === 'Point' && p.radius_m) { z.center = g.coordinates; z.radius = p.radius_m; }
    else continue;
    S.zones.push(z);
  }
  // inclusions first, exclusions on top
  S.zones.sort((a, b) => (a.kind === 'exclusion') - (b.kind === 'exclusion'));
  map.invalidate();
  if (!S.drones.size && !S.fittedOnce) fitZones();
}

function fitZones() {
  const pts = [];
  for (const b of S.boundary) for (const c of b.coords) pts.push(c);
  if (pts.length) map.fit(pts, 30, 8);
}

function circlePx(m, lon, lat, radius) {
  const [x, y] = m.project(lon, lat);
  const mpp = 40075016.686 * Math.cos(lat * Math.PI / 180) / (256 * m.scale);
  return [x, y, radius / mpp];
}

function drawZones(c, m) {
  c.fillStyle = '#0b2233';
  c.fillRect(0, 0, m.w, m.h);
  for (const z of S.zones) {
    const excl = z.kind === 'exclusion';
    const col = excl ? EXCLUSION_COLOR : (JURISDICTION_COLORS[z.jur] || '#888');
    c.beginPath();
    if (z.rings) {
      for (const ring of z.rings) {
        ring.forEach(([lon, lat], i) => { const [x, y] = m.project(lon, lat); i ? c.lineTo(x, y) : c.moveTo(x, y); });
        c.closePath();
      }
    } else {
      const [x, y, r] = circlePx(m, z.center[0], z.center[1], z.radius);
      c.arc(x, y, Math.max(r, 2), 0, Math.PI * 2);
    }
    c.globalAlpha = excl ? 0.22 : (z.jur === 'JOINT' ? 0.10 : 0.16);
    c.fillStyle = col;
    c.fill('evenodd');
    c.globalAlpha = 0.9;
    c.strokeStyle = col;
    c.lineWidth = excl ? 1.5 : 1;
    c.setLineDash(excl ? [5, 4] : (z.jur === 'JOINT' ? [2, 3] : []));
    c.stroke();
    c.setLineDash([]);
    c.globalAlpha = 1;
  }
  c.strokeStyle = '#f5d76e';
  c.lineWidth = 2;
  for (const b of S.boundary) {
    c.beginPath();
    let started = false;
    for (const [lon, lat] of b.coords) {
      const [x, y] = m.project(lon, lat);
      if (started) c.lineTo(x, y); else { c.moveTo(x, y); started = true; }
    }
    c.stroke();
  }
}

function drawCities(c, m) {
  c.font = '12px system-ui, sans-serif';
  c.textAlign = 'left';
  c.textBaseline = 'middle';
  if (m.zoom < 7.5) {
    c.fillStyle = '#e6edf3';
    for (const k of CORRIDORS) {
      const [x, y] = m.project(k.lon, k.lat);
      c.beginPath(); c.arc(x, y, 3, 0, Math.PI * 2); c.fill();
      c.fillText(t('corridor.' + k.id), x + 6, y - 8);
    }
    return;
  }
  for (const city of S.cities) {
    const [x, y] = m.project(city.lon, city.lat);
    if (x < -100 || y < -20 || x > m.w + 100 || y > m.h + 20) continue;
    c.fillStyle = '#e6edf3';
    c.beginPath(); c.arc(x, y, 3, 0, Math.PI * 2); c.fill();
    c.strokeStyle = 'rgba(0,0,0,.7)'; c.lineWidth = 3;
    c.strokeText(city.name, x + 6, y);
    c.fillText(city.name, x + 6, y);
  }
}

function drawRoutes(c, m) {
  c.lineWidth = 2;
  for (const [id, pts] of S.routes) {
    const d = S.drones.get(id);
    if (!d || !pts.length) continue;
    if (d.mission.state !== 'running' && d.mission.state !== 'paused' && id !== S.selected) continue;
    const col = STATE_COLORS[stateOf(d)];
    const seq = d.mission.seq;
    c.strokeStyle = col;
    for (let i = 1; i < pts.length; i++) {
      const [x0, y0] = m.project(pts[i - 1][1], pts[i - 1][0]);
      const [x1, y1] = m.project(pts[i][1], pts[i][0]);
      const done = pts[i][3] < seq;
      c.globalAlpha = done ? 0.35 : 0.8;
      c.setLineDash(done ? [] : [6, 4]);
      c.beginPath(); c.moveTo(x0, y0); c.lineTo(x1, y1); c.stroke();
    }
    c.setLineDash([]);
    c.globalAlpha = 0.9;
    c.fillStyle = col;
    for (const p of pts) {
      const [x, y] = m.project(p[1], p[0]);
      c.beginPath(); c.arc(x, y, p[3] === seq ? 5 : 2.5, 0, Math.PI * 2); c.fill();
    }
    c.globalAlpha = 1;
  }
  if (S.preview) {
    c.strokeStyle = '#ffffff'; c.lineWidth = 2.5; c.setLineDash([8, 5]);
    for (const r of S.preview) {
      c.beginPath();
      r.points.forEach((p, i) => { const [x, y] = m.project(p[1], p[0]); i ? c.lineTo(x, y) : c.moveTo(x, y); });
      c.stroke();
    }
    c.setLineDash([]);
  }
}

// drawTrails draws each drone's recent track, fading with age: the trails
// are split in four age bands and drawn as one path per band and colour.
function drawTrails(c, m) {
  const chunks = 4;
  const bands = Array.from({ length: chunks }, () => new Map());
  for (const [id, tr] of S.trails) {
    const n = tr.length;
    if (n < 2) continue;
    const d = S.drones.get(id);
    const col = d ? STATE_COLORS[stateOf(d)] : '#888';
    for (let k = 0; k < chunks; k++) {
      const a = Math.floor(k * (n - 1) / chunks), b = Math.floor((k + 1) * (n - 1) / chunks);
      if (b <= a) continue;
      let list = bands[k].get(col);
      if (!list) bands[k].set(col, list = []);
      list.push(tr, a, b);
    }
  }
  c.lineWidth = 2;
  for (let k = 0; k < chunks; k++) {
    c.globalAlpha = 0.1 + 0.6 * (k + 1) / chunks;
    for (const [col, list] of bands[k]) {
      c.strokeStyle = col;
      c.beginPath();
      for (let j = 0; j < list.length; j += 3) {
        const tr = list[j], a = list[j + 1], b = list[j + 2];
        for (let i = a; i <= b; i++) { const [x, y] = m.project(tr[i][0], tr[i][1]); i === a ? c.moveTo(x, y) : c.lineTo(x, y); }
      }
      c.stroke();
    }
  }
  c.globalAlpha = 1;
}

function arrow(c, x, y, hdg, size) {
  const a = (Number.isFinite(hdg) ? hdg : 0) * Math.PI / 180;
  const sin = Math.sin(a), cos = Math.cos(a);
  const pt = (dx, dy) => [x + dx * cos - dy * sin, y + dx * sin + dy * cos];
  const p = [pt(0, -size), pt(size * 0.65, size * 0.75), pt(0, size * 0.35), pt(-size * 0.65, size * 0.75)];
  c.moveTo(p[0][0], p[0][1]);
  for (let i = 1; i < 4; i++) c.lineTo(p[i][0], p[i][1]);
  c.closePath();
}

function drawDrones(c, m) {
  if (S.replay) { c.globalAlpha = 0.25; }
  const groups = new Map();
  const visible = [];
  for (const d of S.drones.values()) {
    if (!d.has_position) continue;
    const [x, y] = m.project(d.lon, d.lat);
    if (x < -20 || y < -20 || x > m.w + 20 || y > m.h + 20) continue;
    const st = stateOf(d);
    let g = groups.get(st);
    if (!g) groups.set(st, g = []);
    g.push([x, y, d]);
    visible.push([x, y, d]);
  }
  c.lineWidth = 1.2;
  c.strokeStyle = '#000';
  for (const [st, list] of groups) {
    c.beginPath();
    for (const [x, y, d] of list) arrow(c, x, y, d.heading_deg, 9);
    c.fillStyle = STATE_COLORS[st];
    c.fill(); c.stroke();
  }
  const sel = S.selected && S.drones.get(S.selected);
  if (sel && sel.has_position) {
    const [x, y] = m.project(sel.lon, sel.lat);
    c.strokeStyle = '#fff'; c.lineWidth = 2;
    c.beginPath(); c.arc(x, y, 15, 0, Math.PI * 2); c.stroke();
  }
  if (visible.length <= 150 || (m.zoom >= 14 && visible.length <= 400)) {
    c.font = '11px system-ui, sans-serif'; c.textAlign = 'center'; c.textBaseline = 'top';
    c.lineWidth = 3; c.strokeStyle = 'rgba(0,0,0,.75)'; c.fillStyle = '#fff';
    for (const [x, y, d] of visible) { c.strokeText(d.name, x, y + 12); c.fillText(d.name, x, y + 12); }
  }
  c.globalAlpha = 1;
  if (S.gotoTarget) {
    const [x, y] = m.project(S.gotoTarget[0], S.gotoTarget[1]);
    c.strokeStyle = '#fff'; c.lineWidth = 2;
    c.beginPath(); c.moveTo(x - 8, y); c.lineTo(x + 8, y); c.moveTo(x, y - 8); c.lineTo(x, y + 8); c.stroke();
    c.beginPath(); c.arc(x, y, 6, 0, Math.PI * 2); c.stroke();
  }
}

function drawShape(c, m) {
  const sh = S.shape;
  if (!sh || !sh.points.length) return;
  const col = sh.purpose === 'emergency' ? '#ff4d4f' : '#ffffff';
  c.strokeStyle = col; c.fillStyle = col; c.lineWidth = 2;
  c.beginPath();
  sh.points.forEach(([lon, lat], i) => { const [x, y] = m.project(lon, lat); i ? c.lineTo(x, y) : c.moveTo(x, y); });
  if (sh.type === 'polygon' && sh.done) c.closePath();
  c.stroke();
  if (sh.type === 'polygon' && sh.points.length > 2) { c.globalAlpha = 0.12; c.fill(); c.globalAlpha = 1; }
  for (const [lon, lat] of sh.points) { const [x, y] = m.project(lon, lat); c.beginPath(); c.arc(x, y, 4, 0, Math.PI * 2); c.fill(); }
}

function drawReplay(c, m) {
  const R = S.replay;
  if (!R) return;
  c.lineWidth = 2;
  for (const [id, pts] of R.tracks) {
    if (!pts.length) continue;
    c.strokeStyle = '#3fa7ff';
    c.globalAlpha = 0.35;
    c.beginPath();
    pts.forEach((p, i) => { const [x, y] = m.project(p.lon, p.lat); i ? c.lineTo(x, y) : c.moveTo(x, y); });
    c.stroke();
    c.globalAlpha = 1;
    const p = interp(pts, R.t);
    if (!p) continue;
    const [x, y] = m.project(p.lon, p.lat);
    c.fillStyle = '#ffd166'; c.strokeStyle = '#000'; c.lineWidth = 1.2;
    c.beginPath(); arrow(c, x, y, p.heading_deg, 9); c.fill(); c.stroke();
    c.font = '11px system-ui'; c.textAlign = 'center'; c.textBaseline = 'top'; c.fillStyle = '#fff';
    c.fillText(id, x, y + 12);
  }
}

function interp(pts, tm) {
  if (!pts.length || tm < pts[0].ms) return null;
  let lo = 0, hi = pts.length - 1;
  if (tm >= pts[hi].ms) return pts[hi];
  while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (pts[mid].ms <= tm) lo = mid; else hi = mid; }
  const a = pts[lo], b = pts[hi], f = (tm - a.ms) / Math.max(1, b.ms - a.ms);
  return { lon: a.lon + (b.lon - a.lon) * f, lat: a.lat + (b.lat - a.lat) * f, heading_deg: b.heading_deg };
}

// ---------- map interaction ----------

function updateScale() {
  if (!map) return;
  const mpp = map.metresPerPixel();
  const imperial = i18n.currentUnits() === 'imperial';
  const unit = imperial ? 0.3048 : 1; // metres per foot or metre
  let target = 120 * mpp / unit;
  let val = niceScale(target), label;
  if (imperial) {
    if (val >= 5280 / 2) { const mi = niceScale(target / 5280); val = mi * 5280; label = t('unit.mi', { v: i18n.num(mi, 2) }); }
    else label = t('unit.ft', { v: i18n.num(val) });
  } else {
    label = val >= 1000 ? t('unit.km', { v: i18n.num(val / 1000, 1) }) : t('unit.m', { v: i18n.num(val) });
  }
  $('scalebar').style.width = Math.round(val * unit / mpp) + 'px';
  $('scaletext').textContent = label;
}

function onMapMove(px, py, ll) {
  const tip = $('tooltip');
  if (px === null) { tip.hidden = true; return; }
  $('cursor').textContent = t('map.cursor', { lat: i18n.num(ll[1], 5, 5), lon: i18n.num(ll[0], 5, 5) });
  const d = droneAt(px, py);
  let text = '';
  if (d) {
    text = t('tip.drone', { name: d.name, state: t('state.' + stateOf(d)), mode: d.mode, alt: i18n.alt(d.alt_m), speed: i18n.speed(d.speed_ms) });
  } else {
    const zs = zonesAt(ll[0], ll[1]);
    text = zs.map((z) => t('tip.zone', {
      name: z.p.name || z.id, jur: t('zone.jur.' + z.jur), kind: t('zone.kind.' + z.kind),
      floor: i18n.alt(z.p.floor_m ?? 0), ceiling: i18n.alt(z.p.ceiling_m ?? 120),
      ref: t('zone.ref.' + (z.p.alt_ref || 'home')),
    })).join('\n');
  }
  if (text) {
    tip.textContent = text;
    tip.style.left = Math.min(px + 14, map.w - 290) + 'px';
    tip.style.top = (py + 14) + 'px';
    tip.hidden = false;
  } else tip.hidden = true;
}

function droneAt(px, py) {
  let best = null, bd = 14 * 14;
  for (const d of S.drones.values()) {
    if (!d.has_position) continue;
    const [x, y] = map.project(d.lon, d.lat);
    const dd = (x - px) ** 2 + (y - py) ** 2;
    if (dd < bd) { bd = dd; best = d; }
  }
  return best;
}

function inRing(ring, lon, lat) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i], [xj, yj] = ring[j];
    if ((yi > lat) !== (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function zonesAt(lon, lat) {
  const out = [];
  for (const z of S.zones) {
    if (z.rings) {
      let inside = inRing(z.rings[0], lon, lat);
      for (let i = 1; i < z.rings.length && inside; i++) if (inRing(z.rings[i], lon, lat)) inside = false;
      if (inside) out.push(z);
    } else {
      const dy = (lat - z.center[1]) * 111195, dx = (lon - z.center[0]) * 111195 * Math.cos(lat * Math.PI / 180);
      if (dx * dx + dy * dy <= z.radius * z.radius) out.push(z);
    }
  }
  return out;
}

function onMapClick(px, py, ll) {
  if (S.tool === 'goto') { sendGoto(ll); return; }
  if (S.tool && S.shape && !S.shape.done) {
    S.shape.points.push([ll[0], ll[1]]);
    $('tool-finish').disabled = S.shape.points.length < (S.shape.type === 'line' ? 2 : 3);
    updateShapeText();
    map.invalidate();
    return;
  }
  const d = droneAt(px, py);
  if (d) select(d.id);
}

function setTool(tool, type, purpose) {
  S.tool = tool;
  for (const id of ['tool-polygon', 'tool-line', 'tool-emergency']) $(id).classList.remove('active');
  $('d-goto').classList.toggle('active', tool === 'goto');
  $('map').classList.toggle('drawing', !!tool);
  const hint = $('hint');
  if (tool === 'draw') {
    S.shape = { type, purpose, points: [], done: false };
    S.preview = null; $('p-dispatch').disabled = true;
    $(purpose === 'emergency' ? 'tool-emergency' : 'tool-' + type).classList.add('active');
    hint.textContent = t(purpose === 'emergency' ? 'hint.emergency' : 'hint.' + type);
    hint.hidden = false;
    $('tool-finish').disabled = true;
  } else if (tool === 'goto') {
    hint.textContent = t('hint.goto', { name: S.drones.get(S.selected)?.name || '' });
    hint.hidden = false;
  } else {
    hint.hidden = true;
  }
  updateShapeText();
  map.invalidate();
}

function finishShape() {
  const sh = S.shape;
  if (!sh || sh.points.length < (sh.type === 'line' ? 2 : 3)) return;
  sh.done = true;
  setTool(null);
  $('tool-finish').disabled = true;
  if (sh.purpose === 'emergency') { emergency(sh); return; }
  if (isOperator()) {
    showTab('plan');
    const sel = $('p-pattern');
    if (sh.type === 'line') sel.value = 'line';
    else if (sel.value === 'line') sel.value = 'perimeter';
  }
  updateShapeText();
}

function updateShapeText() {
  const sh = S.shape;
  $('p-shape').textContent = sh && sh.purpose !== 'emergency' && sh.points.length
    ? t(sh.type === 'line' ? 'plan.shape.line' : 'plan.shape.polygon', { n: i18n.num(sh.points.length) })
    : t('plan.shape.none');
}

// ---------- commands ----------

async function api(method, path, body) {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: { Authorization: 'Bearer ' + S.token, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    const e = new Error('network'); e.code = 'network'; throw e;
  }
  let data = null;
  try { data = await res.json(); } catch { /* no body */ }
  if (!res.ok) {
    const e = new Error((data && data.error && data.error.message) || String(res.status));
    e.status = res.status; e.code = (data && data.error && data.error.code) || 'internal';
    e.serverMessage = data && data.error && data.error.message; e.data = data;
    throw e;
  }
  return data;
}

function errText(e) {
  const base = i18n.has('error.' + e.code) ? t('error.' + e.code) : t('error.internal');
  return e.serverMessage ? base + ' — ' + e.serverMessage : base;
}

async function command(cmd, body) {
  const d = S.drones.get(S.selected);
  if (!d) return;
  const out = $('d-result');
  out.className = 'result';
  out.textContent = t('cmd.sending', { cmd: t('cmdname.' + cmd), name: d.name });
  try {
    await api('POST', `api/drones/${encodeURIComponent(d.id)}/${cmd}`, body);
    out.className = 'result ok';
    out.textContent = t('cmd.done', { cmd: t('cmdname.' + cmd), name: d.name });
  } catch (e) {
    out.className = 'result error';
    out.textContent = t('cmd.failed', { cmd: t('cmdname.' + cmd), name: d.name }) + ' ' + errText(e);
  }
}

function altInput(id) {
  const v = Number($(id).value);
  return Number.isFinite(v) ? (i18n.currentUnits() === 'imperial' ? v * 0.3048 : v) : NaN;
}

function sendGoto(ll) {
  S.gotoTarget = [ll[0], ll[1]];
  setTool(null);
  const d = S.drones.get(S.selected);
  const alt = d && d.flying && d.alt_m > 5 ? d.alt_m : altInput('d-alt');
  command('goto', { lat: ll[1], lon: ll[0], alt_m: alt });
}

async function emergency(sh) {
  const inside = [...S.drones.values()].filter((d) => d.has_position && inRing(sh.points, d.lon, d.lat));
  if (!window.confirm(t('emergency.confirm', { n: i18n.num(inside.length) }))) { S.shape = null; map.invalidate(); return; }
  try {
    const res = await api('POST', 'api/emergency/rtl', { area: sh.points.map(([lon, lat]) => [lat, lon]) });
    const sent = res.results.filter((r) => !r.skipped && !r.error).length;
    toast(t('emergency.done', { n: i18n.num(sent), skipped: i18n.num(res.results.length - sent) }));
  } catch (e) { toast(errText(e)); }
  S.shape = null; map.invalidate();
}

function planBody() {
  const ids = [...document.querySelectorAll('#p-drones input:checked')].map((i) => i.value);
  const sh = S.shape;
  const speedIn = Number($('p-speed').value);
  return {
    drones: ids, shape: sh ? sh.type : '', points: sh ? sh.points.map(([lon, lat]) => [lat, lon]) : [],
    pattern: $('p-pattern').value,
    spacing_m: i18n.currentUnits() === 'imperial' ? Number($('p-spacing').value) * 0.3048 : Number($('p-spacing').value),
    alt_m: altInput('p-alt'),
    speed_ms: i18n.currentUnits() === 'imperial' ? speedIn / 2.23694 : speedIn,
    laps: Number($('p-laps').value) || 1,
  };
}

function validPlan(b) {
  const out = $('p-result');
  if (!S.shape || !S.shape.done) { out.className = 'error'; out.textContent = t('plan.need_shape'); return false; }
  if (!b.drones.length) { out.className = 'error'; out.textContent = t('plan.need_drones'); return false; }
  return true;
}

async function preview() {
  const b = planBody();
  if (!validPlan(b)) return;
  const out = $('p-result');
  out.className = ''; out.textContent = t('plan.previewing');
  try {
    const res = await api('POST', 'api/plan/preview', b);
    S.preview = res.routes;
    renderPlanResult(res.routes);
    $('p-dispatch').disabled = res.routes.some((r) => r.check);
  } catch (e) {
    S.preview = null; out.className = 'error'; out.textContent = errText(e);
  }
  map.invalidate();
}

async function dispatch() {
  const b = planBody();
  if (!validPlan(b)) return;
  const out = $('p-result');
  out.className = ''; out.textContent = t('plan.dispatching');
  $('p-dispatch').disabled = true;
  try {
    const res = await api('POST', 'api/plan/dispatch', b);
    renderPlanResult(res.routes, true);
  } catch (e) {
    if (e.data && e.data.routes) renderPlanResult(e.data.routes, true);
    else { out.className = 'error'; out.textContent = errText(e); }
  }
}

function renderPlanResult(routes, dispatched) {
  const out = $('p-result');
  out.className = ''; out.textContent = '';
  const tbl = document.createElement('table');
  const head = tbl.insertRow();
  for (const k of ['col.drone', 'plan.distance', 'plan.duration', 'plan.battery', dispatched ? 'plan.status' : 'plan.check']) {
    const th = document.createElement('th'); th.textContent = t(k); head.appendChild(th);
  }
  for (const r of routes) {
    const row = tbl.insertRow();
    const d = S.drones.get(r.drone);
    let status;
    if (dispatched) status = r.error ? errText({ code: r.error.code, serverMessage: r.error.message }) : t('plan.started', { id: r.mission_id || '' });
    else status = r.check ? t('plan.conflict', { msg: r.check.message }) : t('plan.ok');
    for (const v of [d ? d.name : r.drone, i18n.dist(r.distance_m), i18n.duration(r.duration_s), i18n.pct(r.battery_pct), status]) {
      row.insertCell().textContent = v;
    }
    if ((dispatched && r.error) || (!dispatched && r.check)) row.className = 'error';
  }
  out.appendChild(tbl);
}

// ---------- panels ----------

function select(id) {
  S.selected = id;
  S.detailDirty = S.listDirty = true;
  $('detail').hidden = !id;
  $('d-result').textContent = '';
  if (S.tool === 'goto') setTool(null);
  showTab('fleet');
  map.invalidate();
  renderPanels();
}

function showTab(name) {
  for (const b of document.querySelectorAll('.tab')) b.classList.toggle('active', b.dataset.tab === name);
  for (const p of document.querySelectorAll('.pane')) p.classList.toggle('active', p.id === 'pane-' + name);
}

const SORTS = {
  name: (d) => d.name.toLowerCase(), agency: (d) => d.agency, link: (d) => d.link_state, mode: (d) => d.mode,
  armed: (d) => (d.armed ? 1 : 0), battery: (d) => d.battery.pct, alt: (d) => d.alt_m ?? -1e9,
  speed: (d) => d.speed_ms, mission: (d) => (d.mission.state === 'running' ? d.mission.pct : -1),
};

const rows = new Map();

const panelStats = { renders: 0, ms: 0, maxMs: 0 };
// pos: compact entries applied, tel: status entries applied
const msgStats = { n: 0, ms: 0, maxMs: 0, pos: 0, tel: 0 };

function renderPanels() {
  const t0 = performance.now();
  renderPanelsNow();
  const dt = performance.now() - t0;
  panelStats.renders++; panelStats.ms += dt; panelStats.maxMs = Math.max(panelStats.maxMs, dt);
}

function renderPanelsNow() {
  if (S.listDirty) { S.listDirty = false; renderList(); }
  if (S.detailDirty) { S.detailDirty = false; renderDetail(); }
  if (S.alertsDirty) { S.alertsDirty = false; renderAlerts(); }
  if (S.planDronesDirty) { S.planDronesDirty = false; renderPlanDrones(); }
}

function missionText(m) {
  switch (m.state) {
    case 'running': case 'paused':
      return t('mission.progress', { state: t('mission.' + m.state), pct: i18n.num(m.pct, 0), seq: i18n.num(m.seq), items: i18n.num(Math.max(0, m.items - 1)) });
    case 'none': return t('value.none');
    default: return t('mission.' + m.state);
  }
}

// The fleet list is virtual: only the rows in view (and a margin) exist in
// the DOM, so 1,000 drones cost what 30 do.
const ROW_H = 21;
let listOrder = [];

function renderList() {
  const f = S.filter.toLowerCase();
  const list = [...S.drones.values()].filter((d) => !f || d.name.toLowerCase().includes(f) || d.id.toLowerCase().includes(f) ||
    d.agency.toLowerCase().includes(f) || (d.mode || '').toLowerCase().includes(f) || t('state.' + stateOf(d)).toLowerCase().includes(f));
  const key = SORTS[S.sortKey];
  list.sort((a, b) => { const x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * S.sortDir || a.id.localeCompare(b.id); });
  listOrder = list;
  renderRows();
  $('fleetempty').hidden = list.length > 0;
  $('fleetempty').textContent = S.drones.size ? t('fleet.nomatch') : t('fleet.empty');
  $('fleetcount').textContent = t('fleet.count', { n: i18n.num(list.length), total: i18n.num(S.drones.size) });
  for (const th of document.querySelectorAll('#fleet th')) th.classList.toggle('sorted', th.dataset.sort === S.sortKey);
}

function spacer(h) {
  const tr = document.createElement('tr');
  tr.className = 'spacer';
  const td = tr.insertCell(); td.colSpan = 9; td.style.height = h + 'px'; td.style.padding = '0'; td.style.border = 'none';
  return tr;
}

function renderRows() {
  const wrap = $('fleetwrap'), tb = document.querySelector('#fleet tbody');
  const list = listOrder;
  const first = Math.max(0, Math.floor(wrap.scrollTop / ROW_H) - 10);
  const last = Math.min(list.length, first + Math.ceil((wrap.clientHeight || 400) / ROW_H) + 20);
  const want = [];
  for (let i = first; i < last; i++) {
    const d = list[i];
    let r = rows.get(d.id);
    if (!r) {
      r = { tr: document.createElement('tr'), cells: [] };
      for (let k = 0; k < 9; k++) r.cells.push(r.tr.insertCell());
      r.dot = document.createElement('span'); r.dot.className = 'dot';
      r.label = document.createTextNode('');
      r.cells[0].append(r.dot, r.label);
      const id = d.id;
      r.tr.addEventListener('click', () => select(id));
      r.tr.dataset.id = d.id;
      rows.set(d.id, r);
    }
    r.dot.style.background = STATE_COLORS[stateOf(d)];
    if (r.label.nodeValue !== d.name) r.label.nodeValue = d.name;
    const vals = [null, d.agency, t('link.' + d.link_state), d.mode, d.armed ? t('value.yes') : t('value.no'),
      i18n.pct(d.battery.pct), d.has_position ? i18n.alt(d.alt_m) : t('value.none'), i18n.speed(d.speed_ms), missionText(d.mission)];
    for (let k = 1; k < 9; k++) if (r.cells[k].textContent !== vals[k]) r.cells[k].textContent = vals[k];
    r.tr.classList.toggle('sel', d.id === S.selected);
    want.push(r.tr);
  }
  const keep = new Set(want);
  for (const [id, r] of rows) if (!keep.has(r.tr)) { r.tr.remove(); rows.delete(id); }
  if (!tb.topSpacer) { tb.topSpacer = spacer(0); tb.bottomSpacer = spacer(0); }
  tb.topSpacer.firstChild.style.height = first * ROW_H + 'px';
  tb.bottomSpacer.firstChild.style.height = (list.length - last) * ROW_H + 'px';
  const seq = [tb.topSpacer, ...want, tb.bottomSpacer];
  seq.forEach((el, i) => { if (tb.children[i] !== el) tb.insertBefore(el, tb.children[i] || null); });
  while (tb.children.length > seq.length) tb.lastChild.remove();
}

function renderDetail() {
  const d = S.selected && S.drones.get(S.selected);
  $('detail').hidden = !d;
  if (!d) return;
  $('d-name').textContent = d.name;
  const st = stateOf(d);
  const pill = $('d-state');
  pill.textContent = t('state.' + st); pill.style.background = STATE_COLORS[st];
  const facts = [
    ['detail.id', d.id], ['col.agency', d.agency],
    ['col.mode', d.mode], ['col.armed', d.armed ? t('value.yes') : t('value.no')],
    ['detail.position', d.has_position ? t('detail.latlon', { lat: i18n.num(d.lat, 5, 5), lon: i18n.num(d.lon, 5, 5) }) : t('detail.nofix')],
    ['col.alt', d.has_position ? i18n.alt(d.alt_m, 1) : t('value.none')],
    ['col.speed', i18n.speed(d.speed_ms)], ['detail.heading', d.heading_deg == null ? t('value.none') : t('unit.deg', { v: i18n.num(d.heading_deg) })],
    ['col.battery', t('detail.battery', { pct: i18n.pct(d.battery.pct), v: i18n.num(d.battery.voltage_v, 1) })],
    ['detail.gps', t('detail.gpsfix', { fix: t('gps.' + Math.min(d.gps.fix, 6)), sats: d.gps.sats >= 0 ? i18n.num(d.gps.sats) : t('value.none') })],
    ['col.link', t('detail.link', { state: t('link.' + d.link_state), rate: i18n.num(d.link_quality.rate_hz, 1), loss: i18n.num(d.link_quality.loss_pct, 1) })],
    ['detail.firmware', d.firmware || t('value.none')],
    ['detail.system', d.system_status], ['col.mission', missionText(d.mission)],
    ['detail.eta', d.mission.eta_s == null || d.mission.state !== 'running' ? t('value.none') : i18n.duration(d.mission.eta_s)],
    ['detail.lastseen', d.last_seen ? i18n.time(d.last_seen) : t('value.none')],
  ];
  const dl = $('d-facts');
  dl.textContent = '';
  for (const [k, v] of facts) {
    const dt = document.createElement('dt'); dt.textContent = t(k);
    const dd = document.createElement('dd'); dd.textContent = v;
    dl.append(dt, dd);
  }
  $('d-controls').hidden = !(isOperator() && S.commandable.get(d.id));
  const h = S.hist.get(d.id) || [];
  chart($('c-alt'), h, 1, '#3fa7ff', (v) => i18n.alt(v));
  chart($('c-speed'), h, 2, '#3ccf7a', (v) => i18n.speed(v));
  chart($('c-batt'), h, 3, '#ffb020', (v) => i18n.pct(v), [0, 100]);

  const ready = $('d-ready');
  ready.textContent = '';
  const checks = [
    ['ready.gps', d.gps.fix >= 3], ['ready.position', d.has_position], ['ready.link', d.link_state === 'up'],
    ['ready.battery', d.battery.pct < 0 || d.battery.pct > 30], ['ready.home', !!d.home],
  ];
  const ul = document.createElement('ul'); ul.className = 'msgs';
  for (const [k, ok] of checks) {
    const li = document.createElement('li');
    li.textContent = (ok ? '✓ ' : '✗ ') + t(k);
    li.className = ok ? 'ok' : 'error';
    ul.appendChild(li);
  }
  const msgs = S.msgs.get(d.id) || [];
  const prearm = msgs.find((m) => /^PreArm:|^Arm:/.test(m.params.text) && Date.now() - Date.parse(m.at) < 120000);
  if (prearm) {
    const li = document.createElement('li'); li.className = 'error';
    li.textContent = t('ready.prearm', { text: prearm.params.text }) + explainText(prearm.params.text);
    ul.appendChild(li);
  }
  const ref = S.refusal.get(d.id);
  if (ref) {
    const li = document.createElement('li'); li.className = 'error';
    li.textContent = t('ready.refused', { cmd: ref.params.command, msg: ref.params.message || ref.params.code, time: i18n.time(ref.at) }) + explainText(ref.params.message);
    ul.appendChild(li);
  }
  ready.appendChild(ul);

  const ml = $('d-msgs');
  ml.textContent = '';
  if (!msgs.length) { const li = document.createElement('li'); li.className = 'muted'; li.textContent = t('detail.nomessages'); ml.appendChild(li); }
  for (const m of msgs.slice(0, 12)) {
    const li = document.createElement('li');
    const sev = document.createElement('span'); sev.className = 'sev sev' + m.severity; sev.textContent = t('sev.' + m.severity);
    li.append(sev, i18n.time(m.at) + ' ' + m.params.text + explainText(m.params.text));
    ml.appendChild(li);
  }
}

function explainText(text) {
  const k = explain(text || '');
  return k ? ' — ' + t(k) : '';
}

function chart(cv, h, idx, color, fmt, fixed) {
  const dpr = window.devicePixelRatio || 1;
  const w = cv.clientWidth || 300, hh = cv.clientHeight || 60;
  if (cv.width !== Math.round(w * dpr)) { cv.width = Math.round(w * dpr); cv.height = Math.round(hh * dpr); }
  const c = cv.getContext('2d');
  c.setTransform(dpr, 0, 0, dpr, 0, 0);
  c.clearRect(0, 0, w, hh);
  const pts = h.filter((p) => p[idx] !== null && p[idx] !== undefined);
  if (pts.length < 2) { c.fillStyle = '#8b9bab'; c.font = '11px system-ui'; c.fillText(t('chart.nodata'), 6, 16); return; }
  let lo = fixed ? fixed[0] : Math.min(...pts.map((p) => p[idx])), hi = fixed ? fixed[1] : Math.max(...pts.map((p) => p[idx]));
  if (hi - lo < 1) { hi += 0.5; lo -= 0.5; }
  const t0 = Date.now() - HIST_POINTS * 1000;
  c.strokeStyle = color; c.lineWidth = 1.5; c.beginPath();
  pts.forEach((p, i) => {
    const x = (p[0] - t0) / (HIST_POINTS * 1000) * w, y = hh - 4 - (p[idx] - lo) / (hi - lo) * (hh - 18);
    i ? c.lineTo(x, y) : c.moveTo(x, y);
  });
  c.stroke();
  c.fillStyle = '#e6edf3'; c.font = '11px system-ui'; c.textAlign = 'right';
  c.fillText(fmt(pts[pts.length - 1][idx]), w - 4, 12);
  c.textAlign = 'left'; c.fillStyle = '#8b9bab';
  c.fillText(t('chart.span'), 4, 12);
}

function alertText(e) {
  const p = { ...(e.params || {}) };
  const d = S.drones.get(e.drone);
  p.drone = d ? d.name : (e.drone || '');
  if (p.failsafe) p.failsafe = t('failsafe.' + p.failsafe);
  if (p.reason && i18n.has('reason.' + p.reason)) p.reason = t('reason.' + p.reason);
  if (p.boundary_m) p.boundary = i18n.dist(Number(p.boundary_m));
  if (p.action && i18n.has('action.' + p.action)) p.action = t('action.' + p.action);
  if (p.diff && i18n.has('mission_diff.' + p.diff)) {
    // A mission difference: its code and values, said in the reader's
    // language and units (records from before the code carry an English
    // detail, shown as it is).
    if (p.diff === 'altitude') { p.alt_want = i18n.alt(Number(p.want), 2); p.alt_got = i18n.alt(Number(p.got), 2); }
    p.detail = t('mission_diff.' + p.diff, p);
  }
  const key = 'event.' + e.kind;
  let s = i18n.has(key) ? t(key, p) : t('event.unknown', { kind: e.kind, drone: p.drone });
  if (p.text || p.message) s += explainText(p.text || p.message);
  return s;
}

function renderAlerts() {
  const ul = $('alerts');
  ul.textContent = '';
  const list = [...S.alerts.values()].sort((a, b) => (a.acked - b.acked) || b.event.at.localeCompare(a.event.at));
  let open = 0;
  for (const a of list) {
    if (!a.acked) open++;
    const li = document.createElement('li');
    li.className = a.acked ? 'acked' : 'unacked';
    li.dataset.id = a.id;
    const sev = document.createElement('span'); sev.className = 'sev sev' + a.event.severity; sev.textContent = t('sev.' + a.event.severity);
    const txt = document.createElement('div'); txt.className = 'txt';
    const main = document.createElement('div'); main.textContent = alertText(a.event);
    const meta = document.createElement('div'); meta.className = 'meta';
    meta.textContent = t('alert.when', { local: i18n.time(a.event.at), utc: i18n.time(a.event.at, { timeZone: 'UTC' }) }) +
      (a.acked ? ' · ' + t('alert.acked', { by: a.acked_by, time: i18n.time(a.acked_at) }) : '');
    txt.append(main, meta);
    li.append(sev, txt);
    if (!a.acked && mayAck()) {
      const b = document.createElement('button'); b.type = 'button'; b.textContent = t('alert.ack');
      b.addEventListener('click', async () => {
        b.disabled = true;
        try { await api('POST', `api/alerts/${encodeURIComponent(a.id)}/ack`); } catch (e) { toast(errText(e)); b.disabled = false; }
      });
      li.appendChild(b);
    }
    if (a.event.drone) li.addEventListener('dblclick', () => select(a.event.drone));
    ul.appendChild(li);
  }
  $('alertsempty').hidden = list.length > 0;
  const badge = $('alertcount');
  badge.hidden = open === 0;
  badge.textContent = i18n.num(open);
}

function renderPlanDrones() {
  const box = $('p-drones');
  const checked = new Set([...box.querySelectorAll('input:checked')].map((i) => i.value));
  box.textContent = '';
  const mine = [...S.drones.values()].filter((d) => S.commandable.get(d.id)).sort((a, b) => a.name.localeCompare(b.name));
  if (!mine.length) { const p = document.createElement('p'); p.className = 'muted'; p.textContent = t('plan.nodrones'); box.appendChild(p); }
  for (const d of mine) {
    const l = document.createElement('label');
    const i = document.createElement('input'); i.type = 'checkbox'; i.value = d.id; i.checked = checked.has(d.id);
    l.append(i, d.name);
    box.appendChild(l);
  }
  const rbox = $('r-drones');
  const rchecked = new Set([...rbox.querySelectorAll('input:checked')].map((i) => i.value));
  rbox.textContent = '';
  for (const d of [...S.drones.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const l = document.createElement('label');
    const i = document.createElement('input'); i.type = 'checkbox'; i.value = d.id; i.checked = rchecked.has(d.id);
    l.append(i, d.name);
    rbox.appendChild(l);
  }
}

// ---------- replay ----------

function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

async function loadReplay() {
  const ids = [...document.querySelectorAll('#r-drones input:checked')].map((i) => i.value);
  const out = $('r-result');
  out.className = 'result';
  if (!ids.length) { out.className = 'result error'; out.textContent = t('replay.need_drones'); return; }
  const from = new Date($('r-from').value), to = new Date($('r-to').value);
  if (!(from < to)) { out.className = 'result error'; out.textContent = t('replay.bad_range'); return; }
  out.textContent = t('replay.loading');
  const q = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
  try {
    const tr = await api('GET', `api/history/track?drones=${ids.map(encodeURIComponent).join(',')}&${q}&max=5000`);
    const evs = await api('GET', `api/history/events?${q}&limit=2000`);
    const tracks = new Map();
    let n = 0;
    for (const [id, pts] of Object.entries(tr.tracks)) {
      tracks.set(id, pts.map((p) => ({ ...p, ms: Date.parse(p.at) })));
      n += pts.length;
    }
    S.replay = { tracks, events: evs.events.filter((e) => !e.drone || ids.includes(e.drone)).map((e) => ({ ...e, ms: Date.parse(e.at) })),
      t0: from.getTime(), t1: to.getTime(), t: from.getTime(), playing: false, last: 0 };
    out.textContent = t('replay.loaded', { n: i18n.num(n), events: i18n.num(S.replay.events.length) });
    $('replaybar').hidden = false;
    updateReplayUI();
    const pts = [];
    for (const l of tracks.values()) for (const p of l) pts.push([p.lon, p.lat]);
    if (pts.length) map.fit(pts, 80, 15);
  } catch (e) {
    out.className = 'result error';
    out.textContent = e.code === 'unsupported' ? t('replay.unsupported') : errText(e);
  }
}

function replayTick(ts) {
  const R = S.replay;
  if (!R || !R.playing) return;
  if (R.last) R.t = Math.min(R.t1, R.t + (ts - R.last) * Number($('r-speed').value));
  R.last = ts;
  if (R.t >= R.t1) R.playing = false;
  updateReplayUI();
  map.invalidate();
  requestAnimationFrame(replayTick);
}

function updateReplayUI() {
  const R = S.replay;
  if (!R) return;
  $('rp-slider').value = String(Math.round((R.t - R.t0) / Math.max(1, R.t1 - R.t0) * 1000));
  $('rp-time').textContent = i18n.dateTime(new Date(R.t));
  $('rp-play').textContent = t(R.playing ? 'replay.pause' : 'replay.play');
  const ul = $('r-events');
  const shown = R.events.filter((e) => e.ms <= R.t).slice(-15).reverse();
  const key = shown.map((e) => e.seq + e.at).join();
  if (ul.dataset.key === key) return;
  ul.dataset.key = key;
  ul.textContent = '';
  for (const e of shown) {
    const li = document.createElement('li');
    li.textContent = i18n.time(e.at) + ' ' + alertText(e);
    ul.appendChild(li);
  }
}

// ---------- clocks ----------

function tickClocks() {
  const el = $('clocks');
  const now = new Date();
  if (!el.children.length || el.dataset.lang !== i18n.currentLang()) {
    el.textContent = '';
    el.dataset.lang = i18n.currentLang();
    for (const k of [{ name: t('clocks.utc'), tz: 'UTC' }, ...CORRIDORS.map((c) => ({ name: t('corridor.' + c.id), tz: c.tz }))]) {
      const s = document.createElement('span');
      const b = document.createElement('b');
      s.append(k.name + ' ', b);
      s.dataset.tz = k.tz;
      el.appendChild(s);
    }
  }
  for (const s of el.children) {
    s.lastChild.textContent = i18n.time(now, { timeZone: s.dataset.tz, second: undefined, timeZoneName: 'short' });
  }
}

// ---------- wiring ----------

let toastTimer = 0;
function toast(text) {
  const el = $('toast');
  el.textContent = text; el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 5000);
}

function wireUI() {
  $('signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    S.token = $('token').value.trim();
    sessionStorage.setItem(TOKEN_KEY, S.token);
    $('token').value = '';
    signedIn();
  });
  $('signout').addEventListener('click', signOut);
  $('lang').addEventListener('change', async (e) => { await i18n.load(e.target.value, true); relabel(); });
  $('units').addEventListener('change', (e) => { i18n.setUnits(e.target.value); relabel(); });
  $('zoomin').addEventListener('click', () => map.zoomAt(map.w / 2, map.h / 2, 1));
  $('zoomout').addEventListener('click', () => map.zoomAt(map.w / 2, map.h / 2, -1));
  $('fit').addEventListener('click', fitFleet);
  $('tool-polygon').addEventListener('click', () => setTool('draw', 'polygon', 'plan'));
  $('tool-line').addEventListener('click', () => setTool('draw', 'line', 'plan'));
  $('tool-emergency').addEventListener('click', () => setTool('draw', 'polygon', 'emergency'));
  $('tool-finish').addEventListener('click', finishShape);
  $('tool-clear').addEventListener('click', () => { S.shape = null; S.preview = null; $('p-dispatch').disabled = true; setTool(null); $('p-result').textContent = ''; });
  document.addEventListener('keydown', (e) => {
    if (e.target.tagName === 'INPUT') return;
    if (e.key === 'Escape') { S.shape = null; setTool(null); }
    if (e.key === 'Enter' && S.shape && !S.shape.done) finishShape();
  });
  for (const b of document.querySelectorAll('.tab')) b.addEventListener('click', () => showTab(b.dataset.tab));
  let scrollPending = false;
  $('fleetwrap').addEventListener('scroll', () => {
    if (scrollPending) return;
    scrollPending = true;
    requestAnimationFrame(() => { scrollPending = false; renderRows(); });
  });
  $('filter').addEventListener('input', (e) => { S.filter = e.target.value; S.listDirty = true; renderPanels(); });
  for (const th of document.querySelectorAll('#fleet th')) {
    th.addEventListener('click', () => {
      if (S.sortKey === th.dataset.sort) S.sortDir = -S.sortDir; else { S.sortKey = th.dataset.sort; S.sortDir = 1; }
      S.listDirty = true; renderPanels();
    });
  }
  $('d-close').addEventListener('click', () => select(null));
  for (const b of document.querySelectorAll('#d-controls [data-cmd]')) {
    b.addEventListener('click', () => {
      const cmd = b.dataset.cmd;
      if (cmd === 'goto') { setTool(S.tool === 'goto' ? null : 'goto'); return; }
      if (cmd === 'takeoff') { command('takeoff', { alt_m: altInput('d-alt') }); return; }
      command(cmd);
    });
  }
  $('p-preview').addEventListener('click', preview);
  $('p-dispatch').addEventListener('click', dispatch);
  const now = new Date();
  $('r-to').value = localInput(now);
  $('r-from').value = localInput(new Date(now.getTime() - 10 * 60000));
  $('r-load').addEventListener('click', loadReplay);
  $('rp-play').addEventListener('click', () => {
    const R = S.replay; if (!R) return;
    if (R.t >= R.t1) R.t = R.t0;
    R.playing = !R.playing; R.last = 0;
    updateReplayUI();
    if (R.playing) requestAnimationFrame(replayTick);
  });
  $('rp-slider').addEventListener('input', (e) => {
    const R = S.replay; if (!R) return;
    R.t = R.t0 + (R.t1 - R.t0) * Number(e.target.value) / 1000;
    updateReplayUI(); map.invalidate();
  });
  $('rp-stop').addEventListener('click', () => { S.replay = null; $('replaybar').hidden = true; $('r-events').textContent = ''; map.invalidate(); });
}

// centinela is a read-only window on the page's state and map for
// diagnostics and the browser test.
window.centinela = {
  state: S,
  get map() { return map; },
  drone: (id) => S.drones.get(id) || null,
  get protocol() { return S.ws ? S.ws.protocol : ''; },
  panelStats,
  msgStats,
  alertText,
  screen: (lon, lat) => map.project(lon, lat),
};

start().catch((err) => { console.error(err); toast(String(err)); });
