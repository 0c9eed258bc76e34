// The playground's pictures: loss curves, the fit (curve, maps, parity, classes, confusion), the units.
"use strict";

const Pictures = (() => {
  const D = Draw;

  // ---------------------------------------------------------------- loss
  function loss(canvas, rows, epochs, width) {
    const W = width, H = 190, ctx = D.prepare(canvas, W, H);
    const box = { x: 52, y: 12, w: W - 66, h: H - 48 };
    const ep = rows.map((r) => r.epoch), tr = rows.map((r) => r.train_loss), va = rows.map((r) => r.val_loss);
    const positive = [...tr, ...va].filter((v) => v > 0 && isFinite(v));
    if (!positive.length) {
      D.frame(ctx, box, [0, Math.max(1, epochs)], [1e-3, 1], { logY: true, xLabel: "epoch" });
      empty(ctx, box, "the loss appears here once training starts");
      return;
    }
    let lo = Math.min(...positive), hi = Math.max(...positive);
    lo = lo / 1.6; hi = hi * 1.6;
    const f = D.frame(ctx, box, [0, Math.max(1, epochs)], [lo, hi], { logY: true, xLabel: "epoch" });
    D.line(ctx, f, ep, tr, D.BLUE, 2);
    D.line(ctx, f, ep, va, D.ORANGE, 2);
    D.legend(ctx, [["train", D.BLUE], ["validation", D.ORANGE]], box.x + box.w - 170, box.y + 12);
  }

  function empty(ctx, box, text) {
    ctx.fillStyle = D.MUTED; ctx.font = "13px system-ui, sans-serif"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
    ctx.fillText(text, box.x + box.w / 2, box.y + box.h / 2);
  }

  // ---------------------------------------------------------------- the fit
  // setup: the server's description (decoded once by decodeSetup); snap: the latest snapshot or null
  function fit(holder, setup, snap, width) {
    const kinds = { curve, map, parity, classes, confusion };
    (kinds[setup.kind] || curve)(holder, setup, snap, width);
  }

  function decodeSetup(setup) {
    setup.truthValues = setup.truth ? setup.truth.map(D.f32) : null;
    if (setup.points) setup.pointValues = { x: setup.points.x.map(D.f32), y: setup.points.y.map(D.f32) };
    const n = setup.grid.curve;
    if (setup.kind === "curve") {
      const [a, b] = setup.box[0];
      setup.xs = Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
    }
    return setup;
  }

  function canvasIn(holder, key) {
    let c = holder.querySelector(`canvas[data-key="${key}"]`);
    if (!c) {
      if (holder.dataset.layout !== key.split(":")[0]) { holder.innerHTML = ""; holder.dataset.layout = key.split(":")[0]; }
      c = document.createElement("canvas");
      c.dataset.key = key;
      holder.appendChild(c);
    }
    return c;
  }

  function curve(holder, setup, snap, width) {
    const W = width, H = 300, ctx = D.prepare(canvasIn(holder, "curve"), W, H);
    const box = { x: 48, y: 28, w: W - 62, h: H - 64 };
    const truth = setup.truthValues || [], data = setup.pointValues;
    const pred = snap && snap.pred ? snap.pred.map(D.f32) : [];
    const yr = D.range([...truth, ...(data ? data.y : [])], 0.1);
    const f = D.frame(ctx, box, setup.box[0], yr, { xLabel: setup.inputs[0] });
    const several = setup.outputs.length > 1;
    setup.outputs.forEach((_, k) => {
      const color = D.SERIES[k % D.SERIES.length];
      if (data) D.dots(ctx, f, data.x[0], data.y[k], several ? D.rgb(hex(color), 0.35) : "rgba(43,45,66,0.28)", 2.2);
      if (truth[k]) D.line(ctx, f, setup.xs, truth[k], several ? color : "#2b2d42", 1.6, [6, 5]);
      if (pred[k]) D.line(ctx, f, setup.xs, pred[k], color, 3);
    });
    const items = [["data", "rgba(43,45,66,0.5)", "dot"]];
    if (truth.length) items.push(["truth", "#2b2d42", "dash"]);
    items.push(["network", D.ORANGE]);
    D.legend(ctx, items, box.x + 4, 12);
    if (several) outputsKey(ctx, setup.outputs, box.x + box.w, 12);
  }

  function outputsKey(ctx, outputs, right, y) {
    ctx.font = "11px system-ui, sans-serif"; ctx.textAlign = "right"; ctx.textBaseline = "middle";
    let x = right;
    for (let k = outputs.length - 1; k >= 0; k--) {
      const label = outputs[k].length > 14 ? outputs[k].slice(0, 13) + "…" : outputs[k];
      ctx.fillStyle = D.SERIES[k % D.SERIES.length];
      ctx.fillText(label, x, y);
      x -= ctx.measureText(label).width + 12;
    }
  }

  function hex(color) {
    const n = parseInt(color.slice(1), 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }

  // Two inputs: truth, prediction and error as three maps (or prediction with the data, without a truth).
  function map(holder, setup, snap, width) {
    const side = setup.grid.map, truth = setup.truthValues ? setup.truthValues[0] : null;
    const pred = snap && snap.pred ? D.f32(snap.pred[0]) : null;
    const panels = truth ? 3 : 1, gap = 14, size = Math.min(220, Math.floor((width - 20 - gap * (panels - 1)) / panels));
    const W = width, H = size + 70, ctx = D.prepare(canvasIn(holder, "map"), W, H);
    const [lo, hi] = D.range([truth || [], ...(setup.pointValues ? [setup.pointValues.y[0]] : [])], 0);
    const color = (v) => D.viridis((v - lo) / (hi - lo));
    let x = 10;
    const top = 22;
    const title = (text, at) => { ctx.fillStyle = D.INK; ctx.font = "600 12px system-ui, sans-serif"; ctx.textAlign = "center"; ctx.textBaseline = "alphabetic"; ctx.fillText(text, at + size / 2, 15); };
    if (truth) {
      title("truth", x); D.heatmap(ctx, truth, side, x, top, size, color); x += size + gap;
    }
    title("network", x);
    if (pred) D.heatmap(ctx, pred, side, x, top, size, color);
    else { ctx.fillStyle = "#eef0f5"; ctx.fillRect(x, top, size, size); }
    if (!truth && setup.pointValues) mapPoints(ctx, setup, x, top, size, color);
    const barAt = x;
    x += size + gap;
    if (truth) {
      title(size < 170 ? "network − truth" : "error (network − truth)", x);
      if (pred) {
        let m = 1e-12;
        for (let i = 0; i < pred.length; i++) if (isFinite(truth[i])) m = Math.max(m, Math.abs(pred[i] - truth[i]));
        D.heatmap(ctx, pred, side, x, top, size, (v, i) => D.diverging((v - truth[i]) / m));
        D.colorbar(ctx, x, top + size + 10, size, 8, -m, m, (t) => D.diverging(2 * t - 1));
      } else { ctx.fillStyle = "#eef0f5"; ctx.fillRect(x, top, size, size); }
    }
    D.colorbar(ctx, truth ? 10 : barAt, top + size + 10, truth ? 2 * size + gap : size, 8, lo, hi, D.viridis);
    axisNote(ctx, setup, 10, top + size + 36);
  }

  function mapPoints(ctx, setup, x, y, size, color) {
    const [bx, by] = setup.box, p = setup.pointValues;
    for (let i = 0; i < p.x[0].length; i++) {
      const X = x + ((p.x[0][i] - bx[0]) / (bx[1] - bx[0])) * size, Y = y + size - ((p.x[1][i] - by[0]) / (by[1] - by[0])) * size;
      ctx.fillStyle = D.rgb(color(p.y[0][i])); ctx.strokeStyle = "white"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.arc(X, Y, 3, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
    }
  }

  function axisNote(ctx, setup, x, y) {
    const [bx, by] = setup.box;
    ctx.fillStyle = D.MUTED; ctx.font = "11px system-ui, sans-serif"; ctx.textAlign = "left"; ctx.textBaseline = "top";
    ctx.fillText(`${setup.inputs[0]} from ${D.fmt(bx[0])} to ${D.fmt(bx[1])} (left to right), ` +
                 `${setup.inputs[1]} from ${D.fmt(by[0])} to ${D.fmt(by[1])} (bottom to top)`, x, y);
  }

  // Many inputs: predicted against actual on validation rows; the diagonal is a perfect fit.
  function parity(holder, setup, snap, width) {
    const W = width, H = 300, ctx = D.prepare(canvasIn(holder, "parity"), W, H);
    const box = { x: 52, y: 24, w: W - 70, h: H - 62 };
    if (!snap || !snap.pred) { D.frame(ctx, box, [0, 1], [0, 1], {}); empty(ctx, box, "predicted against actual, once training starts"); return; }
    const pred = D.f32(snap.pred[0]), actual = D.f32(snap.pred[1]);
    const r = D.range([actual], 0.08);
    const f = D.frame(ctx, box, r, r, { xLabel: `actual ${setup.outputs[0]} (validation rows)` });
    D.line(ctx, f, r, r, "#2b2d42", 1.4, [6, 5]);
    D.dots(ctx, f, actual, pred, "rgba(240,138,36,0.55)", 2.6);
    D.legend(ctx, [["network", D.ORANGE, "dot"], ["perfect fit", "#2b2d42", "dash"]], box.x + 4, 12);
  }

  // Two inputs with classes: the predicted class over the plane, shaded by confidence, and the data.
  function classes(holder, setup, snap, width) {
    const size = Math.min(300, width - 20), W = width, H = size + 56, ctx = D.prepare(canvasIn(holder, "classes"), W, H);
    const x = 10, y = 8, side = setup.grid.map;
    if (snap && snap.pred) {
      const label = D.f32(snap.pred[0]), conf = D.f32(snap.pred[1]), n = setup.classes.length;
      D.heatmap(ctx, label, side, x, y, size, (v, i) => {
        const c = D.CLASS_COLORS[v % D.CLASS_COLORS.length], a = Math.max(0, (conf[i] - 1 / n) / (1 - 1 / n)) * 0.75;
        return [255 + a * (c[0] - 255), 255 + a * (c[1] - 255), 255 + a * (c[2] - 255)];
      });
    } else { ctx.fillStyle = "#eef0f5"; ctx.fillRect(x, y, size, size); }
    const [bx, by] = setup.box, p = setup.pointValues;
    if (p) for (let i = 0; i < p.x[0].length; i++) {
      const X = x + ((p.x[0][i] - bx[0]) / (bx[1] - bx[0])) * size, Y = y + size - ((p.x[1][i] - by[0]) / (by[1] - by[0])) * size;
      ctx.fillStyle = D.rgb(D.CLASS_COLORS[p.y[0][i] % D.CLASS_COLORS.length]); ctx.strokeStyle = "white";
      ctx.beginPath(); ctx.arc(X, Y, 3.2, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
    }
    D.legend(ctx, setup.classes.slice(0, 8).map((c, k) => [String(c), D.rgb(D.CLASS_COLORS[k]), "dot"]), x, y + size + 14);
    axisNote(ctx, setup, x, y + size + 30);
  }

  function confusion(holder, setup, snap, width) {
    const n = setup.classes.length, cell = Math.max(14, Math.min(40, Math.floor((width - 90) / n)));
    const W = width, H = cell * n + 60, ctx = D.prepare(canvasIn(holder, "confusion"), W, H);
    const x0 = 70, y0 = 26, m = snap && snap.confusion;
    ctx.fillStyle = D.INK; ctx.font = "600 12px system-ui, sans-serif"; ctx.textAlign = "left";
    ctx.fillText("confusion on validation rows (rows: truth, columns: network)", 8, 14);
    for (let i = 0; i < n; i++) {
      const total = m ? m[i].reduce((a, b) => a + b, 0) || 1 : 1;
      for (let j = 0; j < n; j++) {
        const share = m ? m[i][j] / total : 0;
        ctx.fillStyle = D.rgb(i === j ? D.viridis(0.35 + share * 0.65) : D.diverging(share), i === j ? 0.25 + share * 0.75 : 1);
        ctx.fillRect(x0 + j * cell, y0 + i * cell, cell - 1, cell - 1);
        if (m && cell >= 24) { ctx.fillStyle = D.INK; ctx.font = "10px system-ui"; ctx.textAlign = "center"; ctx.fillText(m[i][j], x0 + j * cell + cell / 2, y0 + i * cell + cell / 2 + 3); }
      }
      ctx.fillStyle = D.MUTED; ctx.textAlign = "right"; ctx.font = "11px system-ui";
      ctx.fillText(String(setup.classes[i]).slice(0, 9), x0 - 6, y0 + i * cell + cell / 2 + 4);
    }
  }

  // ---------------------------------------------------------------- hidden units
  // One canvas per hidden unit, drawn from its bytes: a curve, a map, or a histogram.
  function unit(canvas, u, kind, size) {
    const ctx = D.prepare(canvas, size, size), v = D.bytes(u.v), span = u.hi - u.lo;
    const dead = kind !== "hist" && Math.abs(span) < 1e-6 * Math.max(1, Math.abs(u.lo) + Math.abs(u.hi));
    canvas.classList.toggle("dead", dead);
    canvas.title = dead ? `a dead unit: it outputs ${D.fmt(u.lo)} everywhere` : `from ${D.fmt(u.lo)} to ${D.fmt(u.hi)}`;
    if (kind === "map") {
      const side = Math.round(Math.sqrt(v.length)), m = Math.max(Math.abs(u.lo), Math.abs(u.hi)) || 1;
      D.heatmap(ctx, v, side, 0, 0, size, (b) => (dead ? [214, 217, 226] : D.diverging((u.lo + (span * b) / 255) / m)));
      return;
    }
    ctx.fillStyle = "#fbfbfd"; ctx.fillRect(0, 0, size, size);
    if (kind === "hist") {
      ctx.fillStyle = D.BLUE;
      const w = size / v.length;
      for (let i = 0; i < v.length; i++) { const h = (v[i] / 255) * (size - 4); ctx.fillRect(i * w + 0.5, size - h, w - 1, h); }
      return;
    }
    // a curve: where the unit's value lies, with zero marked when it is in range
    const lo = Math.min(u.lo, 0), hi = Math.max(u.hi, 0) || 1, pad = 3, s = (size - 2 * pad) / (hi - lo || 1);
    const zero = size - pad - (0 - lo) * s;
    ctx.strokeStyle = "#d9dce6"; ctx.lineWidth = 1; ctx.beginPath(); ctx.moveTo(0, zero); ctx.lineTo(size, zero); ctx.stroke();
    ctx.strokeStyle = dead ? "#b8bccb" : D.ORANGE; ctx.lineWidth = 1.8; ctx.beginPath();
    for (let i = 0; i < v.length; i++) {
      const X = (i / (v.length - 1)) * size, Y = size - pad - (u.lo + (span * v[i]) / 255 - lo) * s;
      i ? ctx.lineTo(X, Y) : ctx.moveTo(X, Y);
    }
    ctx.stroke();
  }

  // ---------------------------------------------------------------- wires between the layers
  // Every connection as a curve: orange for a positive weight, blue for a negative one, thicker when larger.
  // Before training (or for nets too large to send weights) only the structure is drawn, faintly.
  const MAX_WIRES = 8192, MAX_PLAIN_WIRES = 1024; // without weights, a dense grey mesh says nothing
  function wires(net, canvas, weights) {
    const W = net.scrollWidth, H = net.scrollHeight, ctx = D.prepare(canvas, W, H);
    const base = net.getBoundingClientRect(), dx = net.scrollLeft - base.left, dy = net.scrollTop - base.top;
    const columns = [[...net.querySelectorAll("#net-inputs .node")],
      ...[...net.querySelectorAll(".layer-units")].map((grid) => [...grid.children]),
      [...net.querySelectorAll("#net-outputs .node")]];
    // A unit in a layer of several columns is wired from its layer's edge, so no line crosses the layer.
    const edge = (el, side) => {
      const r = el.getBoundingClientRect(), grid = el.parentElement.classList.contains("layer-units") ? el.parentElement.getBoundingClientRect() : r;
      return [(side === "right" ? grid.right : grid.left) + dx, r.top + r.height / 2 + dy];
    };
    const right = (el) => edge(el, "right"), left = (el) => edge(el, "left");
    for (let l = 0; l + 1 < columns.length; l++) {
      const from = columns[l], to = columns[l + 1];
      if (!from.length || !to.length || from.length * to.length > MAX_WIRES) continue;
      let w = weights && weights[l] ? D.f32(weights[l]) : null;
      if (w && w.length !== from.length * to.length) w = null;
      if (!w && from.length * to.length > MAX_PLAIN_WIRES) continue;
      let max = 1e-9;
      if (w) for (const v of w) max = Math.max(max, Math.abs(v));
      const starts = from.map(right), ends = to.map(left);
      for (let j = 0; j < to.length; j++) {
        for (let i = 0; i < from.length; i++) {
          const [x1, y1] = starts[i], [x2, y2] = ends[j], mid = (x1 + x2) / 2;
          if (w) {
            const v = w[j * from.length + i], s = Math.abs(v) / max;
            ctx.strokeStyle = v > 0 ? `rgba(240,138,36,${0.08 + 0.62 * s})` : `rgba(59,111,182,${0.08 + 0.62 * s})`;
            ctx.lineWidth = 0.3 + 2.4 * s;
          } else {
            ctx.strokeStyle = "rgba(43,45,66,0.08)";
            ctx.lineWidth = 0.6;
          }
          ctx.beginPath(); ctx.moveTo(x1, y1); ctx.bezierCurveTo(mid, y1, mid, y2, x2, y2); ctx.stroke();
        }
      }
    }
  }

  return { loss, fit, decodeSetup, unit, wires };
})();
