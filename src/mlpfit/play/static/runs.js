// /runs: the run folders in a sortable table; tick two or more to overlay their losses and compare settings.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const D = Draw;
  let runs = [], sortKey = "date", ascending = false;
  const chosen = new Map(); // name -> detail

  function cell(row, text, cls) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    row.appendChild(td);
    return td;
  }
  function score(run) {
    if (run.value === null || run.value === undefined) return "—";
    return `${run.metric} ${run.value.toFixed(run.metric === "accuracy" ? 3 : 4)}${run.split && run.split !== "test" ? ` (${run.split})` : ""}`;
  }
  function render() {
    const sorted = [...runs].sort((a, b) => {
      const x = a[sortKey], y = b[sortKey];
      const order = x === y ? 0 : x === null || x === undefined ? 1 : y === null || y === undefined ? -1 : x < y ? -1 : 1;
      return ascending ? order : -order;
    });
    const body = $("rows");
    body.innerHTML = "";
    for (const run of sorted) {
      const row = document.createElement("tr");
      row.dataset.run = run.name;
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = chosen.has(run.name);
      box.dataset.testid = "choose";
      box.setAttribute("data-testid", "choose");
      box.onchange = () => choose(run.name, box.checked);
      cell(row, "").appendChild(box);
      const link = document.createElement("a");
      link.textContent = run.name;
      if (run.report) { link.href = `/runs/${encodeURIComponent(run.name)}/report.html`; link.target = "_blank"; }
      cell(row, "").appendChild(link);
      cell(row, run.target || "", "target");
      cell(row, run.model);
      cell(row, score(run));
      cell(row, run.seconds === null || run.seconds === undefined ? "—" : run.seconds.toFixed(2));
      cell(row, run.epochs ?? "—");
      cell(row, (run.date || "").replace("T", " ").slice(0, 19));
      body.appendChild(row);
    }
    $("empty").hidden = runs.length > 0;
    for (const th of document.querySelectorAll("th")) {
      th.classList.toggle("sorted", th.dataset.key === sortKey);
      th.classList.toggle("up", ascending);
    }
  }
  async function choose(name, on) {
    if (!on) chosen.delete(name);
    else chosen.set(name, await (await fetch(`/api/runs/${encodeURIComponent(name)}`)).json());
    compare();
  }

  function compare() {
    const list = [...chosen.values()];
    $("compare").hidden = list.length < 2;
    if (list.length < 2) return;
    curves(list);
    configs(list);
  }
  function curves(list) {
    const canvas = $("curves"), W = canvas.parentElement.clientWidth - 36, H = 300, ctx = D.prepare(canvas, W, H);
    const box = { x: 54, y: 30, w: W - 70, h: H - 66 };
    const values = list.flatMap((r) => [...r.train_loss, ...r.val_loss]).filter((v) => v > 0 && isFinite(v));
    const last = Math.max(1, ...list.map((r) => r.epoch[r.epoch.length - 1] || 1));
    const lo = Math.min(...values) / 1.5, hi = Math.max(...values) * 1.5;
    const f = D.frame(ctx, box, [0, last], [lo, hi], { logY: true, xLabel: "epoch" });
    list.forEach((r, k) => {
      const color = D.SERIES[k % D.SERIES.length];
      D.line(ctx, f, r.epoch, r.train_loss, color, 1.4, [2, 3]);
      D.line(ctx, f, r.epoch, r.val_loss, color, 2.4);
    });
    D.legend(ctx, list.map((r, k) => [r.name.length > 28 ? r.name.slice(0, 27) + "…" : r.name, D.SERIES[k % D.SERIES.length]]), box.x, 12);
  }
  function flatten(obj, prefix = "", out = {}) {
    for (const [k, v] of Object.entries(obj || {})) {
      if (v && typeof v === "object" && !Array.isArray(v)) flatten(v, `${prefix}${k}.`, out);
      else out[prefix + k] = Array.isArray(v) ? v.join(",") : v;
    }
    return out;
  }
  function configs(list) {
    const flat = list.map((r) => flatten(r.config));
    const keys = [...new Set(flat.flatMap(Object.keys))].filter((k) => !k.startsWith("run."));
    const table = $("configs");
    table.innerHTML = "";
    const head = document.createElement("tr");
    head.innerHTML = "<th>setting</th>";
    list.forEach((r, k) => {
      const th = document.createElement("th");
      th.innerHTML = `<span class="swatch" style="background:${D.SERIES[k % D.SERIES.length]}"></span>`;
      th.append(r.name.length > 22 ? r.name.slice(0, 21) + "…" : r.name);
      th.title = r.name;
      head.appendChild(th);
    });
    table.appendChild(head);
    const rows = [["score", list.map(score)], ["seconds", list.map((r) => (r.seconds ?? "—").toString())], ...keys.map((key) => [key, flat.map((f) => f[key])])];
    for (const [key, values] of rows) {
      const tr = document.createElement("tr");
      const shown = values.map((v) => (v === null || v === undefined ? "—" : String(v)));
      tr.className = new Set(shown).size > 1 ? "differs" : "";
      cell(tr, key);
      for (const v of shown) cell(tr, v);
      table.appendChild(tr);
    }
  }

  async function main() {
    const answer = await (await fetch("/api/runs")).json();
    runs = answer.runs;
    $("folder").textContent = `The run folders in ${answer.folder}. Tick two or more to compare them; a name opens its report.`;
    for (const th of document.querySelectorAll("th[data-key]")) {
      th.onclick = () => {
        if (!th.dataset.key) return;
        ascending = sortKey === th.dataset.key ? !ascending : true;
        sortKey = th.dataset.key;
        render();
      };
    }
    render();
    window.addEventListener("resize", compare);
  }
  main();
})();
