// A small map on Canvas in Web Mercator (EPSG:3857): pan with drag and
// keys, zoom with the wheel, pinch and buttons. Layers draw themselves
// with the map's projection; the map redraws at most once per animation
// frame, and only when something asked for it.

const TILE = 256;
const MAX_LAT = 85.05112878;

// world projects lon, lat to world pixels at zoom 0 (0..256).
export function world(lon, lat) {
  const la = Math.max(-MAX_LAT, Math.min(MAX_LAT, lat)) * Math.PI / 180;
  return [(lon + 180) / 360 * TILE, (1 - Math.log(Math.tan(la) + 1 / Math.cos(la)) / Math.PI) / 2 * TILE];
}
export function unworld(x, y) {
  const lon = x / TILE * 360 - 180;
  const n = Math.PI - 2 * Math.PI * y / TILE;
  return [lon, 180 / Math.PI * Math.atan(Math.sinh(n))];
}

export class MapView {
  constructor(canvas, opts = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.layers = [];
    this.zoom = opts.zoom ?? 5;
    [this.cx, this.cy] = world(opts.lon ?? -106.5, opts.lat ?? 30.5);
    this.minZoom = 3; this.maxZoom = 19;
    this.dirty = true;
    // stats counts redraws and their cost, for diagnostics and tests.
    this.stats = { draws: 0, drawMs: 0, maxDrawMs: 0 };
    this.onclick = null; this.onmove = null; this.onviewchange = null; this.ondblclick = null;
    this.tiles = null; this.tileCache = new Map();
    this._frame = this._frame.bind(this);
    this._resize();
    new ResizeObserver(() => this._resize()).observe(canvas);
    this._input();
    requestAnimationFrame(this._frame);
  }

  setTiles(template) { this.tiles = template || null; this.invalidate(); }

  // scale is world pixels (zoom 0) to screen pixels.
  get scale() { return Math.pow(2, this.zoom); }

  // project returns the screen position of lon, lat.
  project(lon, lat) {
    const [x, y] = world(lon, lat);
    const s = this.scale;
    return [(x - this.cx) * s + this.w / 2, (y - this.cy) * s + this.h / 2];
  }
  unproject(px, py) {
    const s = this.scale;
    return unworld((px - this.w / 2) / s + this.cx, (py - this.h / 2) / s + this.cy);
  }
  // metresPerPixel at the view's centre.
  metresPerPixel() {
    const [, lat] = unworld(this.cx, this.cy);
    return 40075016.686 * Math.cos(lat * Math.PI / 180) / (TILE * this.scale);
  }

  invalidate() { this.dirty = true; }

  setView(lon, lat, zoom) {
    [this.cx, this.cy] = world(lon, lat);
    if (zoom !== undefined) this.zoom = Math.max(this.minZoom, Math.min(this.maxZoom, zoom));
    this._changed();
  }

  // fit shows every [lon, lat] of points.
  fit(points, padding = 60, maxZoom = 15) {
    if (!points.length) return;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const [lon, lat] of points) {
      const [x, y] = world(lon, lat);
      x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
    }
    this.cx = (x0 + x1) / 2; this.cy = (y0 + y1) / 2;
    const zx = Math.log2(Math.max(1, this.w - 2 * padding) / Math.max(1e-9, x1 - x0));
    const zy = Math.log2(Math.max(1, this.h - 2 * padding) / Math.max(1e-9, y1 - y0));
    this.zoom = Math.max(this.minZoom, Math.min(maxZoom, zx, zy));
    this._changed();
  }

  zoomAt(px, py, dz) {
    const nz = Math.max(this.minZoom, Math.min(this.maxZoom, this.zoom + dz));
    if (nz === this.zoom) return;
    const s0 = this.scale;
    const wx = (px - this.w / 2) / s0 + this.cx, wy = (py - this.h / 2) / s0 + this.cy;
    this.zoom = nz;
    const s1 = this.scale;
    this.cx = wx - (px - this.w / 2) / s1; this.cy = wy - (py - this.h / 2) / s1;
    this._changed();
  }
  pan(dx, dy) { const s = this.scale; this.cx -= dx / s; this.cy -= dy / s; this._changed(); }

  _changed() { this.dirty = true; if (this.onviewchange) this.onviewchange(); }

  _resize() {
    const r = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    this.w = Math.max(1, r.width); this.h = Math.max(1, r.height);
    this.canvas.width = Math.round(this.w * dpr); this.canvas.height = Math.round(this.h * dpr);
    this.dpr = dpr;
    this._changed();
  }

  _frame(ts) {
    if (this.dirty) {
      this.dirty = false;
      const t0 = performance.now();
      const c = this.ctx;
      c.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
      c.clearRect(0, 0, this.w, this.h);
      if (this.tiles) this._drawTiles(c);
      for (const l of this.layers) {
        c.save();
        try { l(c, this, ts); } catch (err) {
          if (!this.failed) { this.failed = true; console.error(err); }
        }
        c.restore();
      }
      const dt = performance.now() - t0;
      this.stats.draws++; this.stats.drawMs += dt; this.stats.maxDrawMs = Math.max(this.stats.maxDrawMs, dt);
    }
    requestAnimationFrame(this._frame);
  }

  _drawTiles(c) {
    const z = Math.max(0, Math.min(19, Math.round(this.zoom)));
    const n = Math.pow(2, z), ts = TILE * this.scale / n;
    const [lx, ty] = [this.cx - this.w / 2 / this.scale, this.cy - this.h / 2 / this.scale];
    const x0 = Math.floor(lx / TILE * n), y0 = Math.floor(ty / TILE * n);
    const x1 = Math.floor((lx + this.w / this.scale) / TILE * n), y1 = Math.floor((ty + this.h / this.scale) / TILE * n);
    for (let x = x0; x <= x1; x++) for (let y = Math.max(0, y0); y <= Math.min(n - 1, y1); y++) {
      const xx = ((x % n) + n) % n;
      const url = this.tiles.replace('{z}', z).replace('{x}', xx).replace('{y}', y);
      let img = this.tileCache.get(url);
      if (!img) {
        if (this.tileCache.size > 400) this.tileCache.clear();
        img = new Image();
        img.onload = () => this.invalidate();
        img.onerror = () => { img.failed = true; };
        img.src = url;
        this.tileCache.set(url, img);
      }
      if (img.complete && !img.failed && img.naturalWidth) {
        const sx = (x * TILE / n - this.cx) * this.scale + this.w / 2, sy = (y * TILE / n - this.cy) * this.scale + this.h / 2;
        c.drawImage(img, sx, sy, ts + 0.5, ts + 0.5);
      }
    }
  }

  _input() {
    const cv = this.canvas;
    let drag = null, moved = false;
    const pointers = new Map();
    let pinch = null;
    cv.addEventListener('pointerdown', (e) => {
      cv.setPointerCapture(e.pointerId);
      pointers.set(e.pointerId, [e.offsetX, e.offsetY]);
      if (pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        pinch = { d: Math.hypot(a[0] - b[0], a[1] - b[1]), z: this.zoom };
        drag = null;
      } else {
        drag = [e.offsetX, e.offsetY]; moved = false;
      }
    });
    cv.addEventListener('pointermove', (e) => {
      if (pointers.has(e.pointerId)) pointers.set(e.pointerId, [e.offsetX, e.offsetY]);
      if (pinch && pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        const d = Math.hypot(a[0] - b[0], a[1] - b[1]);
        const target = pinch.z + Math.log2(d / pinch.d);
        this.zoomAt((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, target - this.zoom);
      } else if (drag) {
        const dx = e.offsetX - drag[0], dy = e.offsetY - drag[1];
        if (moved || Math.abs(dx) + Math.abs(dy) > 3) {
          moved = true;
          this.pan(dx, dy);
          drag = [e.offsetX, e.offsetY];
        }
      }
      if (this.onmove) this.onmove(e.offsetX, e.offsetY, this.unproject(e.offsetX, e.offsetY));
    });
    const up = (e) => {
      pointers.delete(e.pointerId);
      if (pointers.size < 2) pinch = null;
      if (drag && !moved && this.onclick && e.type === 'pointerup') {
        this.onclick(e.offsetX, e.offsetY, this.unproject(e.offsetX, e.offsetY), e);
      }
      drag = null;
    };
    cv.addEventListener('pointerup', up);
    cv.addEventListener('pointercancel', up);
    cv.addEventListener('pointerleave', () => { if (this.onmove) this.onmove(null); });
    cv.addEventListener('dblclick', (e) => {
      e.preventDefault();
      if (this.ondblclick && this.ondblclick(e.offsetX, e.offsetY, this.unproject(e.offsetX, e.offsetY))) return;
      this.zoomAt(e.offsetX, e.offsetY, 1);
    });
    cv.addEventListener('wheel', (e) => {
      e.preventDefault();
      const dz = -e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.002);
      this.zoomAt(e.offsetX, e.offsetY, Math.max(-1, Math.min(1, dz)));
    }, { passive: false });
    cv.addEventListener('keydown', (e) => {
      const step = 80;
      switch (e.key) {
        case 'ArrowLeft': this.pan(step, 0); break;
        case 'ArrowRight': this.pan(-step, 0); break;
        case 'ArrowUp': this.pan(0, step); break;
        case 'ArrowDown': this.pan(0, -step); break;
        case '+': case '=': this.zoomAt(this.w / 2, this.h / 2, 1); break;
        case '-': case '_': this.zoomAt(this.w / 2, this.h / 2, -1); break;
        default: return;
      }
      e.preventDefault();
    });
  }
}

// niceScale returns a round distance in metres near target and its label
// value, for the scale bar.
export function niceScale(target) {
  const p = Math.pow(10, Math.floor(Math.log10(target)));
  for (const m of [5, 2, 1]) if (m * p <= target) return m * p;
  return p;
}
