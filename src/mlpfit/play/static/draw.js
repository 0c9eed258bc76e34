// Drawing for the playground: plain canvas, no library. Charts, heatmaps, colour maps, decoding.
"use strict";

const Draw = (() => {
  const BLUE = "#3b6fb6", ORANGE = "#f08a24", INK = "#2b2d42", GRID = "#e6e8ef", MUTED = "#8a8fa3";
  const SERIES = [ORANGE, BLUE, "#2a9d8f", "#e15759", "#8e6bbf", "#b07aa1"];

  // ---------------------------------------------------------------- decoding what the server sends
  function bytes(b64) {
    const text = atob(b64), out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  }
  const f32 = (b64) => new Float32Array(bytes(b64).buffer);

  // ---------------------------------------------------------------- colour maps
  // viridis at 9 stops, linearly interpolated: perceptually even, readable in grey.
  const VIRIDIS = [[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
                   [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]];
  function viridis(t) {
    t = Math.min(1, Math.max(0, isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
    const i = Math.min(VIRIDIS.length - 2, Math.floor(t)), f = t - i, a = VIRIDIS[i], b = VIRIDIS[i + 1];
    return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
  }
  // blue (negative) - white (zero) - orange (positive), t in [-1, 1]
  function diverging(t) {
    t = Math.min(1, Math.max(-1, isFinite(t) ? t : 0));
    const end = t < 0 ? [59, 111, 182] : [240, 138, 36], s = Math.abs(t);
    return [248 + s * (end[0] - 248), 248 + s * (end[1] - 248), 248 + s * (end[2] - 248)];
  }
  const CLASS_COLORS = [[59, 111, 182], [240, 138, 36], [42, 157, 143], [225, 87, 89], [142, 107, 191],
                        [176, 122, 161], [237, 201, 72], [118, 183, 178], [156, 117, 95], [186, 176, 172]];
  const rgb = (c, a = 1) => `rgba(${c[0] | 0},${c[1] | 0},${c[2] | 0},${a})`;

  // ---------------------------------------------------------------- canvas set-up
  function prepare(canvas, width, height) {
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      canvas.style.width = width + "px";
      canvas.style.height = height + "px";
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    return ctx;
  }

  // ---------------------------------------------------------------- numbers and axes
  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return "—";
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(1).replace("e+", "e").replace(".0e", "e");
    return String(+v.toPrecision(3));
  }
  function ticks(lo, hi, count = 5) {
    const span = hi - lo || 1, raw = span / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= count) || 10 * mag;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }
  function range(arrays, pad = 0.06) {
    let lo = Infinity, hi = -Infinity;
    for (const a of arrays) for (const v of a) if (isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
    if (!isFinite(lo)) return [0, 1];
    if (hi - lo < 1e-12) { lo -= 0.5; hi += 0.5; }
    const p = (hi - lo) * pad;
    return [lo - p, hi + p];
  }

  // A plot area with axes: maps data to pixels, draws grid, ticks and labels.
  function frame(ctx, box, xr, yr, opts = {}) {
    const { x, y, w, h } = box, logY = !!opts.logY;
    const ty = (v) => (logY ? Math.log10(Math.max(v, 1e-300)) : v);
    const [y0, y1] = logY ? [ty(yr[0]), ty(yr[1])] : yr;
    const px = (v) => x + ((v - xr[0]) / (xr[1] - xr[0])) * w;
    const py = (v) => y + h - ((ty(v) - y0) / (y1 - y0)) * h;
    ctx.font = "11px system-ui, sans-serif";
    ctx.lineWidth = 1;
    ctx.fillStyle = MUTED;
    ctx.strokeStyle = GRID;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const t of ticks(xr[0], xr[1], opts.xTicks || 5)) {
      ctx.beginPath(); ctx.moveTo(px(t) + 0.5, y); ctx.lineTo(px(t) + 0.5, y + h); ctx.stroke();
      ctx.fillText(fmt(t), px(t), y + h + 4);
    }
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const yTicks = logY ? decades(y0, y1) : ticks(yr[0], yr[1], 4);
    for (const t of yTicks) {
      ctx.beginPath(); ctx.moveTo(x, py(t) + 0.5); ctx.lineTo(x + w, py(t) + 0.5); ctx.stroke();
      ctx.fillText(fmt(t), x - 5, py(t));
    }
    ctx.strokeStyle = "#c9cdd9";
    ctx.strokeRect(x + 0.5, y + 0.5, w, h);
    if (opts.xLabel) { ctx.textAlign = "center"; ctx.textBaseline = "bottom"; ctx.fillText(opts.xLabel, x + w / 2, y + h + 32); }
    return { px, py, box };
  }
  function decades(lo, hi) {
    const out = [], step = Math.max(1, Math.ceil((hi - lo) / 5));
    for (let d = Math.ceil(lo); d <= Math.floor(hi); d += step) out.push(Math.pow(10, d));
    return out.length ? out : [Math.pow(10, (lo + hi) / 2)];
  }

  function line(ctx, f, xs, ys, color, width = 2, dash = []) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(f.box.x, f.box.y, f.box.w, f.box.h);
    ctx.clip();
    ctx.strokeStyle = color; ctx.lineWidth = width; ctx.setLineDash(dash); ctx.lineJoin = "round";
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < xs.length; i++) {
      if (ys[i] === null || !isFinite(ys[i])) { pen = false; continue; }
      const X = f.px(xs[i]), Y = f.py(ys[i]);
      pen ? ctx.lineTo(X, Y) : ctx.moveTo(X, Y);
      pen = true;
    }
    ctx.stroke();
    ctx.restore();
  }
  function dots(ctx, f, xs, ys, color, radius = 2.2) {
    ctx.save();
    ctx.beginPath(); ctx.rect(f.box.x, f.box.y, f.box.w, f.box.h); ctx.clip();
    ctx.fillStyle = color;
    for (let i = 0; i < xs.length; i++) {
      if (!isFinite(ys[i])) continue;
      ctx.beginPath(); ctx.arc(f.px(xs[i]), f.py(ys[i]), radius, 0, 2 * Math.PI); ctx.fill();
    }
    ctx.restore();
  }
  function legend(ctx, items, x, y) {
    ctx.font = "12px system-ui, sans-serif";
    ctx.textAlign = "left"; ctx.textBaseline = "middle";
    for (const [label, color, kind] of items) {
      ctx.strokeStyle = color; ctx.fillStyle = color; ctx.lineWidth = 2.5;
      if (kind === "dot") { ctx.beginPath(); ctx.arc(x + 8, y, 3, 0, 2 * Math.PI); ctx.fill(); }
      else { ctx.setLineDash(kind === "dash" ? [5, 4] : []); ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + 16, y); ctx.stroke(); ctx.setLineDash([]); }
      ctx.fillStyle = INK;
      ctx.fillText(label, x + 22, y);
      x += 30 + ctx.measureText(label).width;
    }
  }

  // ---------------------------------------------------------------- images from values
  // values: row-major side x side (row 0 at the top); color(t) -> [r, g, b]
  function heatmap(ctx, values, side, x, y, size, color) {
    const img = new ImageData(side, side);
    for (let i = 0; i < side * side; i++) {
      const c = color(values[i], i);
      img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2]; img.data[4 * i + 3] = 255;
    }
    const tmp = document.createElement("canvas");
    tmp.width = side; tmp.height = side;
    tmp.getContext("2d").putImageData(img, 0, 0);
    ctx.save();
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(tmp, x, y, size, size);
    ctx.restore();
  }

  function colorbar(ctx, x, y, w, h, lo, hi, color) {
    for (let i = 0; i < w; i++) { ctx.fillStyle = rgb(color(i / (w - 1))); ctx.fillRect(x + i, y, 1, h); }
    ctx.fillStyle = MUTED; ctx.font = "10px system-ui, sans-serif"; ctx.textBaseline = "top";
    ctx.textAlign = "left"; ctx.fillText(fmt(lo), x, y + h + 2);
    ctx.textAlign = "right"; ctx.fillText(fmt(hi), x + w, y + h + 2);
  }

  return { BLUE, ORANGE, INK, MUTED, GRID, SERIES, CLASS_COLORS, bytes, f32, viridis, diverging, rgb, prepare,
           fmt, ticks, range, frame, line, dots, legend, heatmap, colorbar };
})();
