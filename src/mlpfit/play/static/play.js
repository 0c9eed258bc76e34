// The playground page: the form (kept in the URL), the network editor, the buttons, the live stream.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const FIELDS = ["target", "target-column", "drop", "domain", "samples", "hidden", "activation", "output-activation",
                  "dropout", "optimizer", "lr", "batch-size", "epochs", "seed"];
  const field = (name) => (name === "epochs" ? $("epochs-input") : $(name));
  const PRESETS = [
    { label: "a wave", target: "sin(3*x)", domain: "-2:2" },
    { label: "a bowl", target: "x**2 + y**2", domain: "-2:2" },
    { label: "a saddle", target: "x*y", domain: "-2:2" },
    { label: "ripples", target: "sin(2*x)*cos(2*y)", domain: "-2:2" },
    { label: "a kink", target: "abs(x)", domain: "-1:1" },
    { label: "a bump", target: "exp(-x**2)*cos(5*x)", domain: "-3:3" },
    { label: "three inputs", target: "x1 + x2*x3", domain: "-1:1" },
    { label: "no nonlinearity?", target: "x**2 + y**2", domain: "-2:2", activation: "identity",
      title: "a network without activations is a straight-line fit: see what the page says" },
  ];
  const page = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) + Date.now()).replace(/[^A-Za-z0-9-]/g, "");
  let options = null, settings = {}, setup = null, snap = null, rows = [], final = null;
  let state = "ready", epochs = 200, drawQueued = false, diagnostics = [];

  // ---------------------------------------------------------------- settings <-> form <-> URL
  function readURL() {
    const query = new URLSearchParams(location.search);
    for (const name of FIELDS) settings[name] = query.has(name) ? query.get(name) : options.defaults[name];
  }
  function writeURL() {
    const query = new URLSearchParams();
    for (const name of FIELDS) if (settings[name] !== "" && settings[name] !== undefined) query.set(name, settings[name]);
    history.replaceState(null, "", "?" + query.toString().replace(/%2C/g, ",").replace(/%3A/g, ":"));
  }
  function fillForm() {
    for (const name of FIELDS) if (field(name)) field(name).value = settings[name];
    const upload = settings.target.startsWith("upload:");
    $("domain").disabled = $("samples").disabled = upload;
    if (upload) $("upload-box").open = true;
    if (upload && !$("target-column").options.length) {
      const opt = new Option(settings["target-column"] || "(last column)", settings["target-column"] || "");
      $("target-column").add(opt);
    }
    $("epochs").textContent = settings.epochs;
  }
  function changed(name, value, { resetTraining = true } = {}) {
    settings[name] = value;
    if (field(name) && field(name).value !== value) field(name).value = value;
    writeURL();
    if (name === "hidden") buildNetwork(parseHidden(value));
    if (name === "epochs") $("epochs").textContent = value;
    if (name === "target" || name === "target-column" || name === "drop") inspectSoon();
    if (name === "target-column") dropBoxes(columns);
    if (resetTraining && state !== "ready") control("reset");
  }
  // An uploaded table's columns, each with a box to leave it out of the inputs (fit's --drop).
  let columns = [];
  function dropBoxes(names) {
    columns = names;
    const box = $("drop-columns"), left = new Set((settings.drop || "").split(",").filter(Boolean));
    box.querySelectorAll("label").forEach((label) => label.remove());
    box.hidden = !names.length;
    for (const name of names) {
      if (name === (settings["target-column"] || names[names.length - 1])) continue;
      const label = document.createElement("label"), check = document.createElement("input");
      check.type = "checkbox"; check.value = name; check.checked = left.has(name);
      check.dataset.testid = `drop-${name}`;
      check.onchange = () => changed("drop", [...box.querySelectorAll("input:checked")].map((c) => c.value).join(","));
      label.append(check, " " + name);
      box.appendChild(label);
    }
  }
  function choices(select, names) {
    for (const name of names) select.add(new Option(name, name));
  }

  // ---------------------------------------------------------------- the network editor and its units
  function parseHidden(text) {
    const spec = String(text).trim().toLowerCase();
    if (["none", "0", "", "linear"].includes(spec)) return [];
    const times = spec.match(/^(\d+)\s*[x*]\s*(\d+)$/);
    if (times) return Array(Math.min(+times[2], 16)).fill(+times[1]);
    const sizes = spec.split(",").map((s) => parseInt(s, 10));
    return sizes.every((s) => s > 0) ? sizes : null;
  }
  function setHidden(sizes) {
    changed("hidden", sizes.length ? sizes.join(",") : "none");
  }
  function unitSize(sizes) {
    const widest = Math.max(1, ...sizes);
    return widest <= 8 ? 44 : widest <= 16 ? 36 : widest <= 32 ? 26 : widest <= 64 ? 18 : 12;
  }
  function buildNetwork(sizes) {
    const units = $("units");
    units.innerHTML = "";
    if (!sizes) { units.textContent = "hidden: write widths like 16,16 or 32x3"; return; }
    const limits = options.limits, size = unitSize(sizes), rowsMax = Math.max(8, Math.floor(420 / (size + 5)));
    $("layer-count").textContent = sizes.length === 1 ? "1 hidden layer" : `${sizes.length} hidden layers`;
    $("add-layer").disabled = sizes.length >= limits.depth;
    $("remove-layer").disabled = sizes.length === 0;
    if (!sizes.length) {
      const none = document.createElement("div");
      none.className = "no-layers";
      none.textContent = "no hidden layer: one straight-line (linear) layer";
      units.appendChild(none);
    }
    sizes.forEach((width, l) => {
      const layer = document.createElement("div");
      layer.className = "layer";
      const head = document.createElement("div");
      head.className = "layer-head";
      const minus = button("−", "one unit fewer", () => { sizes[l] = Math.max(1, sizes[l] - 1); setHidden(sizes); });
      const plus = button("+", "one unit more", () => { sizes[l] = Math.min(limits.width, sizes[l] + 1); setHidden(sizes); });
      const count = document.createElement("span");
      count.className = "width";
      count.textContent = width;
      head.append(minus, count, plus);
      const grid = document.createElement("div");
      grid.className = "layer-units";
      grid.style.gridTemplateColumns = `repeat(${Math.ceil(width / rowsMax)}, ${size}px)`;
      for (let k = 0; k < width; k++) {
        const canvas = document.createElement("canvas");
        canvas.className = "unit";
        canvas.dataset.layer = l; canvas.dataset.unit = k;
        canvas.style.width = canvas.style.height = size + "px";
        grid.appendChild(canvas);
      }
      const foot = document.createElement("div");
      foot.className = "layer-foot";
      foot.textContent = `layer ${l + 1}`;
      layer.append(head, grid, foot);
      units.appendChild(layer);
    });
    units.dataset.size = size;
    queueDraw();
  }
  function button(text, title, onclick) {
    const b = document.createElement("button");
    b.className = "tiny"; b.textContent = text; b.title = title; b.onclick = onclick;
    return b;
  }
  function nodes(holder, names, title) {
    holder.innerHTML = `<div class="io-title">${title}</div>`;
    for (const name of names.slice(0, 12)) {
      const node = document.createElement("div");
      node.className = "node"; node.textContent = name.length > 9 ? name.slice(0, 8) + "…" : name; node.title = name;
      holder.appendChild(node);
    }
  }

  // What the target's inputs and outputs are, asked while typing: the network is drawn whole at once.
  let inspectTimer = null;
  function inspectSoon() {
    clearTimeout(inspectTimer);
    inspectTimer = setTimeout(inspect, 250);
  }
  async function inspect() {
    const query = new URLSearchParams({ target: settings.target || "", "target-column": settings["target-column"] || "",
                                        drop: settings.drop || "" });
    const note = $("target-note");
    try {
      const response = await fetch(`/api/inspect?${query}`);
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.error);
      note.className = "target-note";
      const inputs = answer.inputs, outputs = answer.outputs;
      note.textContent = `${inputs.length} input${inputs.length === 1 ? "" : "s"} (${inputs.slice(0, 6).join(", ")}${inputs.length > 6 ? ", …" : ""})` +
        ` → ${outputs.length} output${outputs.length === 1 ? "" : "s"}`;
      if (!setup) { nodes($("net-inputs"), inputs, "inputs"); nodes($("net-outputs"), outputs, "output"); }
    } catch (err) {
      note.className = "target-note bad";
      note.textContent = err.message;
    }
  }

  // ---------------------------------------------------------------- talking to the server
  // The server answers POSTs only with the token it wrote into this page (play/guard.py).
  const token = document.querySelector('meta[name="mlpfit-token"]')?.content || "";
  async function post(url, body) {
    const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", "X-Mlpfit-Token": token }, body: JSON.stringify(body) });
    const answer = await response.json().catch(() => ({ error: `the server answered ${response.status}` }));
    if (!response.ok) throw new Error(answer.error || `the server answered ${response.status}`);
    return answer;
  }
  async function start(step = false) {
    if (state === "paused" && !step) return control("resume");
    if ((state === "running" || state === "paused") && step) return control("step");
    clearTraining();
    showState("starting");
    try {
      await post("/api/start", { page, settings, step });
    } catch (err) {
      showState("error", err.message);
    }
  }
  async function control(action) {
    try {
      await post("/api/control", { page, action });
      if (action === "reset") { clearTraining(); showState("ready"); }
    } catch (err) {
      showState("error", err.message);
    }
  }
  async function save() {
    $("save").disabled = true;
    try {
      const saved = await post("/api/save", { page });
      showSaved(saved);
    } catch (err) {
      showState("error", err.message);
    }
  }
  async function upload(file) {
    if (!file) return;
    $("upload-note").textContent = `reading ${file.name}…`;
    try {
      const response = await fetch(`/api/upload?name=${encodeURIComponent(file.name)}`, { method: "POST", headers: { "Content-Type": "text/csv", "X-Mlpfit-Token": token }, body: file });
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.error);
      const select = $("target-column");
      select.innerHTML = "";
      for (const c of answer.columns) select.add(new Option(c, c));
      select.value = answer.default_target;
      changed("drop", "", { resetTraining: false });
      changed("target-column", answer.default_target, { resetTraining: false });
      dropBoxes(answer.columns);
      changed("target", answer.target);
      fillForm();
      $("upload-note").textContent = `${file.name}: ${answer.columns.length} columns; the others are the inputs.`;
    } catch (err) {
      // Nothing of the page's earlier problem may survive a refused table: Start would train it, Save write it.
      $("upload-note").textContent = "";
      $("target-column").innerHTML = "";
      dropBoxes([]);
      if (state !== "ready") await post("/api/control", { page, action: "reset" }).catch(() => {});
      clearTraining();
      settings.drop = "";
      changed("target", "", { resetTraining: false });
      showState("error", err.message);
    }
  }
  function listen() {
    const source = new EventSource(`/api/events?page=${page}`);
    source.onmessage = (event) => receive(JSON.parse(event.data));
  }

  // ---------------------------------------------------------------- what the stream says
  function receive(m) {
    if (m.state === "reset") return;
    if (m.setup) {
      setup = Pictures.decodeSetup(m.setup);
      rows = []; snap = null; final = null;
      epochs = m.epochs;
      buildNetwork(setup.units.layers);
      nodes($("net-inputs"), setup.inputs, "inputs");
      nodes($("net-outputs"), setup.outputs, setup.task === "classify" ? "class" : "output");
      $("fit").innerHTML = "";
    }
    for (const r of m.rows || []) rows.push(r);
    if (m.snapshot) snap = m.snapshot;
    if (m.final) final = m.final;
    diagnostics = m.diagnostics || diagnostics;
    showState(m.state, m.error);
    queueDraw();
  }
  function showState(next, error) {
    state = next;
    $("status").textContent = next === "error" ? `error: ${error}` : next;
    $("status").className = `value status ${next}`;
    $("start").disabled = next === "running" || next === "starting";
    $("pause").disabled = next !== "running";
    $("save").disabled = !(final && (next === "done" || next === "stopped"));
    document.body.dataset.state = next;
  }
  function clearTraining() {
    setup = null; snap = null; rows = []; final = null; diagnostics = [];
    $("saved").hidden = true;
    $("fit").innerHTML = "";
    buildNetwork(parseHidden(settings.hidden));
    queueDraw();
  }
  function showSaved(saved) {
    const box = $("saved");
    box.hidden = false;
    box.innerHTML = "";
    const title = document.createElement("div");
    title.className = "saved-title";
    title.innerHTML = `Saved as <code></code> · <a target="_blank">open its report</a> · <a href="/runs">compare runs</a>`;
    title.querySelector("code").textContent = saved.path;
    title.querySelector("a").href = saved.report;
    const command = document.createElement("pre");
    command.className = "command";
    saved.command.split(" ").forEach((word, i) => {  // wrap between words only, never at a word's hyphen
      const span = document.createElement("span");
      span.className = "word";
      span.textContent = word;
      command.append(i ? " " : "", span);
    });
    const copy = button("copy", "copy the command", () => navigator.clipboard && navigator.clipboard.writeText(saved.command));
    copy.className = "copy";
    const commandBox = document.createElement("div");
    commandBox.className = "command-box";
    commandBox.append(command, copy);
    const use = document.createElement("div");
    use.className = "hint";
    use.innerHTML = `The same fit from a terminal (same seed, same numbers):`;
    const predict = document.createElement("div");
    predict.className = "hint";
    predict.innerHTML = `Use it: <code></code>`;
    predict.querySelector("code").textContent = `mlpfit predict ${saved.path} ${(setup ? setup.inputs : ["x"]).map(() => "0.5").join(" ")}`;
    box.append(title, use, commandBox, predict);
  }

  // ---------------------------------------------------------------- drawing, once per frame
  function queueDraw() {
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(() => { drawQueued = false; draw(); });
  }
  function draw() {
    const last = rows.length ? rows[rows.length - 1].epoch : 0;
    $("epoch").textContent = final ? final.epochs : Math.max(last, snap ? snap.epoch : 0);
    $("progress-bar").style.width = `${Math.min(100, (100 * (final ? epochs : last)) / Math.max(1, epochs))}%`;
    Pictures.loss($("loss-canvas"), rows, setup ? epochs : +settings.epochs || 1, $("loss").clientWidth);
    if (setup) Pictures.fit($("fit"), setup, snap, $("fit").clientWidth);
    else $("fit").innerHTML = `<div class="placeholder"><span>Press <b>▶</b> to train a network on <code></code></span></div>`,
         $("fit").querySelector("code").textContent = settings.target;
    drawUnits();
    Pictures.wires(document.querySelector(".net"), $("wires"), snap && snap.weights);
    showMetric();
    showDiagnostics();
  }
  function drawUnits() {
    const size = +$("units").dataset.size || 30;
    for (const canvas of $("units").querySelectorAll("canvas.unit")) {
      const u = snap && snap.units[canvas.dataset.layer] && snap.units[canvas.dataset.layer][canvas.dataset.unit];
      if (u && setup) Pictures.unit(canvas, u, setup.units.kind, size);
      else Draw.prepare(canvas, size, size);
    }
  }
  function showMetric() {
    const metric = final ? final.metric : snap && snap.metric;
    const digits = metric && metric.name === "accuracy" ? 3 : 4;
    const values = metric && metric.values.length ? metric.values.map((v) => (v === null ? "—" : v.toFixed(digits))).join(" · ") : "—";
    $("metrics").textContent = `${metric ? metric.name : setup && setup.task === "classify" ? "accuracy" : "R²"} ${values}`;
    $("metrics-label").textContent = final ? `score on the ${final.metric.split} set` : snap ? "score on validation data, live" : "score";
  }
  function showDiagnostics() {
    const box = $("diagnostics");
    box.innerHTML = "";
    const notes = [...diagnostics.map((d) => [d.severity === "error" ? "error" : "warning", d.message, d.hint])];
    if (final && final.stopped_early) notes.push(["info", `stopped early at epoch ${final.epochs}: the validation loss had not improved for a while; the weights of epoch ${final.best_epoch} are kept`, ""]);
    for (const note of (final && final.notes) || []) notes.push(["info", note, ""]);
    if (final && !diagnostics.length) notes.push(["good", `trained ${final.parameters} parameters in ${final.seconds.toFixed(2)} s; no pitfalls found`, ""]);
    for (const [kind, message, hint] of notes) {
      const card = document.createElement("div");
      card.className = `diagnostic ${kind}`;
      card.innerHTML = `<div class="message"></div>${hint ? '<div class="fix"></div>' : ""}`;
      card.querySelector(".message").textContent = message;
      if (hint) card.querySelector(".fix").textContent = hint;
      box.appendChild(card);
    }
  }

  // ---------------------------------------------------------------- wiring
  function wire() {
    for (const name of FIELDS) {
      const el = field(name);
      if (!el) continue;
      el.addEventListener("input", () => {
        settings[name] = el.value;
        writeURL();
        if (name === "hidden") buildNetwork(parseHidden(el.value));
        if (name === "target" || name === "target-column") inspectSoon();
      });
      el.addEventListener("change", () => changed(name, el.value));
    }
    $("target").addEventListener("keydown", (e) => { if (e.key === "Enter") { changed("target", $("target").value, { resetTraining: false }); start(); } });
    $("start").onclick = () => start(false);
    $("step").onclick = () => start(true);
    $("pause").onclick = () => control("pause");
    $("reset").onclick = () => control("reset");
    $("save").onclick = save;
    $("upload").onchange = (e) => upload(e.target.files[0]);
    $("add-layer").onclick = () => { const s = parseHidden(settings.hidden) || []; s.push(s.length ? s[s.length - 1] : 8); setHidden(s); };
    $("remove-layer").onclick = () => { const s = parseHidden(settings.hidden) || []; s.pop(); setHidden(s); };
    for (const preset of PRESETS) {
      const chip = button(preset.label, preset.title || preset.target, () => {
        changed("target", preset.target, { resetTraining: false });
        changed("domain", preset.domain, { resetTraining: false });
        changed("activation", preset.activation || (settings.activation === "identity" ? "tanh" : settings.activation), { resetTraining: false });
        $("domain").disabled = $("samples").disabled = false;
        if (state !== "ready") control("reset"); else clearTraining();
      });
      chip.className = "chip";
      $("presets").appendChild(chip);
    }
    window.addEventListener("resize", queueDraw);
  }

  async function main() {
    options = await (await fetch("/api/options")).json();
    choices($("activation"), options.activations);
    choices($("output-activation"), options.activations);
    choices($("optimizer"), options.optimizers);
    $("runs-folder").textContent = `runs are saved in ${options.runs}`;
    readURL();
    fillForm();
    writeURL();
    wire();
    buildNetwork(parseHidden(settings.hidden));
    showState("ready");
    inspect();
    listen();
  }
  main();
})();
