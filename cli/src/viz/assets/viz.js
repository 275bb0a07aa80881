// gomap viz: draws the frames captured from a live gomap::HashMap (JSON in #viz-data) as SVG.
// No network, no libraries: a frame is rebuilt from the last whole copy of each bucket array
// plus the chains that changed since, then drawn into #map-svg.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("viz-data").textContent);
  const FRAMES = DATA.frames;
  const SLOTS = 8;

  // Geometry of the picture, in px.
  const CELL = 12;                     // one tophash cell
  const BW = SLOTS * CELL + 2;         // a bucket
  const BH = CELL + 2;
  const ROW = 19;                      // row pitch
  const LABEL = 34;                    // bucket index column
  const LINK = 18;                     // arrow between buckets of a chain
  const ROWS_PER_COL = 32;
  const COL_GAP = 18;
  const PANEL_GAP = 120;               // room for the X/Y arrows between old and new
  const TOP = 40;                      // panel title and subtitle
  const NEVAC = 64;                    // room left of the old array for the nevacuate pointer
  const MIN_PANEL = 300;               // a panel is at least as wide as its titles
  const OVERVIEW_ABOVE = 2048;         // larger arrays get the heat strip and a zoom range

  // Slot states below minTopHash, named by the library (SlotState) in the JSON.
  const STATE = { 0: ["s-rest", "emptyRest"], 1: ["s-one", "emptyOne"], 2: ["s-x", "evacuatedX"],
    3: ["s-y", "evacuatedY"], 4: ["s-ee", "evacuatedEmpty"] };
  for (const [byte, name] of DATA.slot_states || []) {
    if (STATE[byte]) STATE[byte][1] = name;
  }
  const MIN_TOP_HASH = DATA.min_top_hash || 5;

  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
  const tops = (b) => { const t = []; for (let i = 0; i < SLOTS; i++) t.push(parseInt(b.t.substr(2 * i, 2), 16)); return t; };
  const hex2 = (n) => "0x" + n.toString(16).padStart(2, "0");
  const fmt = (n) => Number(n).toLocaleString("en-US");

  // ---- rebuilding arrays ---------------------------------------------------------------------
  // lastFull[key][f]: the last frame <= f holding the whole array (-1 if none / array absent).
  const lastFull = { new: [], old: [] };
  for (const key of ["new", "old"]) {
    let k = -1;
    FRAMES.forEach((fr, f) => {
      const a = fr[key];
      if (!a) k = -1; else if (a.full) k = f;
      lastFull[key].push(k);
    });
  }
  const cache = { new: { f: -1, arr: null }, old: { f: -1, arr: null } };
  function arrayAt(key, f) {
    if (!FRAMES[f][key]) return null;
    const k = lastFull[key][f];
    if (k < 0) return null;
    const c = cache[key];
    let arr, from;
    if (c.arr && c.f >= k && c.f <= f && lastFull[key][c.f] === k) { arr = c.arr.slice(); from = c.f; }
    else { arr = FRAMES[k][key].chains.slice(); from = k; }
    for (let j = from + 1; j <= f; j++) for (const ch of FRAMES[j][key].chains) arr[ch.i] = ch;
    cache[key] = { f, arr };
    return arr;
  }

  // ---- drawing ---------------------------------------------------------------------------------
  function cellState(t) { return t >= MIN_TOP_HASH ? ["s-full", "full"] : STATE[t]; }

  function slotTitle(bucketLabel, i, t, entry) {
    const [, name] = cellState(t);
    let s = `${bucketLabel} slot ${i}: tophash ${hex2(t)} (${name})`;
    if (entry) { const [k, v] = entry.split("="); s += `\nkey ${k}\nvalue ${v}`; }
    return s;
  }

  // One bucket (8 cells in a frame) as an SVG group.
  function bucketSvg(x, y, b, attrs, classes, label) {
    let s = `<g class="bucket ${classes}" ${attrs} transform="translate(${x},${y})">`;
    s += `<rect class="frame" x="0" y="0" width="${BW}" height="${BH}" rx="2"/>`;
    if (b) {
      const t = tops(b);
      for (let i = 0; i < SLOTS; i++) {
        const [cls] = cellState(t[i]);
        const entry = b.e ? b.e[i] : null;
        s += `<rect class="cell ${cls}" x="${1 + i * CELL}" y="1" width="${CELL}" height="${CELL}"><title>${esc(slotTitle(label, i, t[i], entry))}</title></rect>`;
      }
    } else {
      s += `<title>${esc(label)}</title>`;
    }
    return s + "</g>";
  }

  // Lays out and draws one array's chains [from, to) at (x0, y0).
  // Returns { svg, width, height, pos } with pos[i] = { x, y, xEnd } of chain i's head row.
  function panel(chains, len, from, to, x0, y0, opts) {
    const n = to - from;
    const cols = Math.max(1, Math.ceil(n / ROWS_PER_COL));
    let svg = "", x = x0, height = 0;
    const pos = {};
    for (let c = 0; c < cols; c++) {
      const lo = from + c * ROWS_PER_COL, hi = Math.min(to, lo + ROWS_PER_COL);
      let longest = 1;
      for (let i = lo; i < hi; i++) longest = Math.max(longest, (chains[i] && chains[i].b.length) || 1);
      for (let i = lo; i < hi; i++) {
        const ch = chains[i] || { i, b: [] };
        const y = y0 + (i - lo) * ROW;
        svg += `<text x="${x + LABEL - 4}" y="${y + 11}" text-anchor="end">${i}</text>`;
        const bx = x + LABEL;
        const base = `${opts.old ? "old " : ""}bucket ${i}`;
        const common = `data-bucket="${i}"${opts.old ? " data-old" : ""}`;
        let cls = [];
        if (ch.r && opts.old) cls.push("evacuated");
        if (opts.moved && opts.moved.has(i)) cls.push("moved");
        if (opts.target === i) cls.push("target");
        if (ch.b.length === 0) {
          cls.push(opts.old ? "released" : "uninit");
          const why = opts.old ? "evacuated; its memory went back to the OS" : "nothing evacuated into it yet";
          svg += bucketSvg(bx, y, null, common, cls.join(" "), `${base}: ${why}`);
        } else {
          ch.b.forEach((b, k) => {
            const ox = bx + k * (BW + LINK);
            if (k === 0) {
              svg += bucketSvg(ox, y, b, common, cls.join(" "), base);
            } else {
              svg += `<path class="link" d="M${ox - LINK + 1},${y + BH / 2}h${LINK - 6}" marker-end="url(#arrow)"/>`;
              svg += bucketSvg(ox, y, b, `${common} data-overflow="${k}"${b.p ? " data-pool" : ""}`,
                b.p ? "overflow pool" : "overflow", `${base}, overflow ${k}${b.p ? " (from the pre-allocated pool)" : " (heap)"}`);
            }
          });
        }
        const xEnd = bx + ((ch.b.length || 1) - 1) * (BW + LINK) + BW;
        pos[i] = { x: bx, y, xEnd };
      }
      height = Math.max(height, (hi - lo) * ROW);
      x += LABEL + longest * (BW + LINK) - LINK + COL_GAP;
    }
    return { svg, width: x - x0 - COL_GAP, height, pos };
  }

  // The new-array buckets an old bucket's entries went to: X (same index, or the index in a
  // smaller array) and, when the array doubled, Y (index + old length).
  function destinations(i, oldLen, newLen, chain) {
    const t = chain && chain.b[0] ? tops(chain.b[0]) : null;
    const hasX = !t || t.includes(2), hasY = !t || t.includes(3);
    const out = [];
    if (newLen > oldLen) {
      if (hasX) out.push(["X", i]);
      if (hasY) out.push(["Y", i + oldLen]);
    } else if (hasX) out.push(["X", i & (newLen - 1)]);
    return out;
  }

  let zoom = { from: 0, count: 128 };

  function draw(f) {
    const fr = FRAMES[f], s = fr.stats;
    const svgEl = $("map-svg");
    const nw = arrayAt("new", f), old = arrayAt("old", f);
    const newLen = nw ? nw.length : 0, oldLen = old ? old.length : 0;
    const big = newLen > OVERVIEW_ABOVE;
    $("overview").hidden = !big;
    let from = 0, to = newLen, ofrom = 0, oto = oldLen;
    if (big) {
      zoom.from = Math.max(0, Math.min(zoom.from, newLen - 1));
      from = zoom.from; to = Math.min(newLen, from + zoom.count);
      ofrom = Math.min(from, oldLen); oto = Math.min(oldLen, to);
      drawHeat(nw, old, from, to);
    }
    const moved = new Set(fr.moved || []);
    const target = fr.target || null;
    let svg = `<defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L8,4L0,8z" fill="#374151"/></marker>`
      + `<marker id="ax" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L8,4L0,8z" fill="#10b981"/></marker>`
      + `<marker id="ay" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L8,4L0,8z" fill="#a855f7"/></marker>`
      + `<marker id="an" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L8,4L0,8z" fill="#dc2626"/></marker>`
      + `<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f3f4f6"/><line x1="0" y1="0" x2="0" y2="6" stroke="#d1d5db" stroke-width="3"/></pattern></defs>`;
    let width = 0, height = 0, x = 4;
    let oldPanel = null;
    const titles = (x, a, b) => `<text class="title" x="${x}" y="14">${a}</text><text x="${x}" y="29">${b}</text>`;
    if (old) {
      const kind = s.b > s.old_b ? "doubling" : s.b === s.old_b ? "same-size growth" : "shrink";
      x += NEVAC;
      oldPanel = panel(old, oldLen, ofrom, oto, x, TOP, { old: true, moved,
        target: target && target.old_bucket != null && old[target.old_bucket] && !old[target.old_bucket].r ? target.old_bucket : -1 });
      svg += titles(x, `old array: 2^${s.old_b} = ${fmt(oldLen)} buckets`,
        `${kind} · ${fmt(s.evacuated)} evacuated · nevacuate ${fmt(s.nevacuate)}`);
      svg += oldPanel.svg;
      // nevacuate: every old bucket below it is evacuated.
      if (s.nevacuate >= ofrom && s.nevacuate < oto && oldPanel.pos[s.nevacuate]) {
        const p = oldPanel.pos[s.nevacuate];
        const y = p.y + BH / 2;
        svg += `<path class="nevac" d="M${p.x - LABEL - NEVAC + 2},${y}h${NEVAC - 6}" marker-end="url(#an)"/><text x="${p.x - LABEL - NEVAC + 2}" y="${y - 3}" fill="#dc2626">nevacuate</text>`;
      }
      height = oldPanel.height;
      x += Math.max(MIN_PANEL, oldPanel.width) + PANEL_GAP;
    }
    if (nw) {
      const label = old ? "new array" : "bucket array";
      svg += titles(x, `${label}: 2^${s.b} = ${fmt(newLen)} buckets${big ? ` (showing ${fmt(from)}..${fmt(to - 1)})` : ""}`,
        `${fmt(s.noverflow)} overflow (${s.pool_used} of ${s.pool} from the pool)`);
      const np = panel(nw, newLen, from, to, x, TOP, { old: false, moved: null, target: target ? target.bucket : -1 });
      svg += np.svg;
      // X/Y arrows for the old buckets evacuated since the previous frame.
      if (oldPanel) {
        for (const i of moved) {
          const a = oldPanel.pos[i];
          if (!a) continue;
          for (const [xy, j] of destinations(i, oldLen, newLen, old[i])) {
            const b = np.pos[j];
            if (!b) continue;
            const x1 = a.xEnd + 2, y1 = a.y + BH / 2, x2 = b.x - LABEL + 2, y2 = b.y + BH / 2;
            const mid = (x1 + x2) / 2;
            const cls = xy === "X" ? "xy-x" : "xy-y";
            svg += `<path class="${cls}" d="M${x1},${y1}C${mid},${y1} ${mid},${y2} ${x2},${y2}" marker-end="url(#a${xy.toLowerCase()})"/>`;
            svg += `<text class="xy" x="${mid}" y="${(y1 + y2) / 2 - 3}" fill="${xy === "X" ? "#059669" : "#9333ea"}">${xy}</text>`;
          }
        }
      }
      width = x - 4 + Math.max(MIN_PANEL, np.width); height = Math.max(height, np.height);
      // The pre-allocated overflow pool: 2^(B-4) buckets after the main ones, taken in order.
      if (s.pool > 0) {
        const py = TOP + np.height + 8;
        svg += `<text x="${x}" y="${py + 10}">overflow pool: ${s.pool_used} of ${s.pool} taken</text>`;
        const shown = Math.min(s.pool, 128);
        for (let k = 0; k < shown; k++) {
          const used = k < s.pool_used;
          svg += `<rect class="pool-slot${used ? " used" : ""}" x="${x + 190 + k * 14}" y="${py}" width="12" height="12"><title>pool bucket ${k}: ${used ? "chained as an overflow bucket" : "free"}</title></rect>`;
        }
        if (shown < s.pool) svg += `<text x="${x + 190 + shown * 14 + 4}" y="${py + 10}">…</text>`;
        height = Math.max(height, np.height + 22);
      }
    } else {
      svg += `<text class="title" x="4" y="14">no bucket array yet: the first insert allocates it</text>`;
      width = 400; height = 10;
    }
    svgEl.setAttribute("width", width + 16);
    svgEl.setAttribute("height", TOP + height + 10);
    svgEl.innerHTML = svg;
  }

  // The overview of a large array: per column, average fill (top) and longest chain (bottom).
  function drawHeat(nw, old, from, to) {
    const el = $("heat");
    const W = el.clientWidth || 1000;
    const cols = Math.min(nw.length, Math.floor(W / 2));
    const per = nw.length / cols;
    let svg = "", maxChain = 1;
    const fill = [], chain = [];
    for (let c = 0; c < cols; c++) {
      const lo = Math.floor(c * per), hi = Math.max(lo + 1, Math.floor((c + 1) * per));
      let full = 0, slots = 0, longest = 0;
      for (let i = lo; i < hi; i++) {
        const ch = nw[i];
        if (!ch) continue;
        for (const b of ch.b) { slots += SLOTS; for (const t of tops(b)) if (t >= MIN_TOP_HASH) full++; }
        longest = Math.max(longest, ch.b.length);
      }
      fill.push(slots ? full / slots : 0); chain.push(longest); maxChain = Math.max(maxChain, longest);
    }
    const cw = W / cols;
    for (let c = 0; c < cols; c++) {
      const a = fill[c];
      svg += `<rect x="${c * cw}" y="0" width="${cw + 0.5}" height="20" fill="rgba(59,130,246,${a.toFixed(2)})"/>`;
      const l = chain[c];
      const col = l <= 1 ? "#e5e7eb" : l === 2 ? "#fcd34d" : l === 3 ? "#f97316" : "#dc2626";
      svg += `<rect x="${c * cw}" y="24" width="${cw + 0.5}" height="20" fill="${col}"/>`;
    }
    const x1 = (from / nw.length) * W, x2 = (to / nw.length) * W;
    svg += `<rect x="${x1}" y="0" width="${Math.max(2, x2 - x1)}" height="44" fill="none" stroke="#111827" stroke-width="2"/>`;
    svg += `<text x="2" y="56" font-size="10" fill="#6b7280">top: slots filled (white 0% → blue 100%) · bottom: longest chain (grey 1, yellow 2, orange 3, red ≥4; max ${maxChain}) · click to zoom</text>`;
    el.innerHTML = svg;
    $("overview-note").textContent = `${fmt(nw.length)} buckets: ${cols} columns of ${per.toFixed(1)}`;
    $("zoom-from").max = nw.length - 1;
    $("zoom-from").value = from;
  }

  // ---- the SyncMap view (--sync-map) -----------------------------------------------------------
  const HAS_SYNC = FRAMES.length > 0 && !!FRAMES[0].sync;
  let syncMax = 1;
  // Every key gets one place, by first appearance along the timeline, so an entry stays put
  // while the slider moves, in the read snapshot and in the dirty map alike.
  const SYNC_SLOT = new Map();
  if (HAS_SYNC) for (const fr of FRAMES) {
    syncMax = Math.max(syncMax, fr.sync.read_len, fr.sync.dirty_len || 0, fr.sync.len);
    for (const e of fr.sync.entries || []) if (!SYNC_SLOT.has(e.k)) SYNC_SLOT.set(e.k, SYNC_SLOT.size);
  }
  const SYNC_COLOR = { value: "#3b82f6", nil: "#facc15", expunged: "#dc2626" };

  // One map (the snapshot or dirty) as a grid of entry cells coloured by state.
  function syncGrid(entries, which, x0, y0, cols, cell) {
    let svg = "";
    for (const e of entries) {
      const state = e[which];
      if (!state) continue;
      const i = SYNC_SLOT.get(e.k), x = x0 + (i % cols) * cell, y = y0 + Math.floor(i / cols) * cell;
      const what = state === "value" ? `= ${e.v}` : state === "nil" ? "deleted (nil)" : "expunged: deleted, not in the dirty map";
      svg += `<rect class="sync-entry" data-map="${which === "r" ? "read" : "dirty"}" data-key="${e.k}" data-state="${state}" x="${x}" y="${y}" width="${cell - 1}" height="${cell - 1}" fill="${SYNC_COLOR[state]}"><title>${which === "r" ? "read" : "dirty"}: key ${e.k} ${what}</title></rect>`;
    }
    return svg;
  }

  function drawSync(f) {
    const y = FRAMES[f].sync;
    setText("sync-len", fmt(y.len));
    setText("sync-read", fmt(y.read_len));
    setText("sync-dirty", y.dirty_len == null ? "nil" : fmt(y.dirty_len));
    setText("sync-amended", y.amended ? "true" : "false", y.amended);
    setText("sync-copying", y.copying ? "yes" : "no", y.copying);
    setText("sync-misses", fmt(y.misses));
    setText("sync-promotions", fmt(y.promotions));
    const el = $("sync-svg");
    const W = Math.max(400, el.clientWidth || 1000), gap = 24, panel = (W - gap) / 2;
    const cell = SYNC_SLOT.size > 600 ? 7 : 11, cols = Math.max(1, Math.floor(panel / cell));
    const rows = Math.max(1, Math.ceil(SYNC_SLOT.size / cols));
    const top = 34, gridH = rows * cell;
    const counts = (c) => `${fmt(c[0])} value · ${fmt(c[1])} nil · ${fmt(c[2])} expunged`;
    let svg = "";
    svg += `<text x="0" y="12" font-weight="bold">read snapshot (lock-free)</text>`;
    svg += `<text x="0" y="26" id="sync-read-states">${fmt(y.read_len)} entries: ${counts(y.read_states)}${y.amended ? " · amended: dirty has keys this lacks" : ""}</text>`;
    const dx = panel + gap;
    svg += `<text x="${dx}" y="12" font-weight="bold">dirty map (under the mutex)</text>`;
    svg += y.dirty_len == null
      ? `<text x="${dx}" y="26" id="sync-dirty-states" fill="#6b7280">nil: no dirty map (the snapshot holds every key)</text>`
      : `<text x="${dx}" y="26" id="sync-dirty-states">${fmt(y.dirty_len)} entries: ${counts(y.dirty_states)}${y.copying ? " · still copying the snapshot in" : ""}</text>`;
    if (y.entries) {
      svg += `<rect x="0" y="${top}" width="${cols * cell}" height="${gridH}" fill="#f3f4f6"/>`;
      svg += syncGrid(y.entries, "r", 0, top, cols, cell);
      if (y.dirty_len != null) {
        svg += `<rect x="${dx}" y="${top}" width="${cols * cell}" height="${gridH}" fill="#f3f4f6"/>`;
        svg += syncGrid(y.entries, "d", dx, top, cols, cell);
      }
    } else {
      svg += `<text x="0" y="${top + 12}" fill="#6b7280">too many keys to draw one by one: counts only</text>`;
    }
    // Misses against the promotion threshold len(dirty).
    const my = top + (y.entries ? gridH : 16) + 22, X0 = 60;
    const w = (n) => Math.max(n > 0 ? 2 : 0, (n / syncMax) * Math.min(600, W - 400));
    svg += `<text x="0" y="${my}">misses</text>`;
    const limit = y.dirty_len == null ? 0 : y.dirty_len;
    svg += `<rect x="${X0}" y="${my - 11}" width="${w(y.misses)}" height="14" fill="#dc2626"/>`;
    if (limit > 0) svg += `<line x1="${X0 + w(limit)}" x2="${X0 + w(limit)}" y1="${my - 15}" y2="${my + 7}" stroke="#111827" stroke-dasharray="3 2"/>`;
    svg += `<text x="${X0 + Math.max(w(y.misses), w(limit)) + 6}" y="${my}">${fmt(y.misses)}${limit ? ` of ${fmt(limit)}: the dirty map is promoted when misses reach len(dirty)` : ""} · promotions so far: ${fmt(y.promotions)}</text>`;
    el.setAttribute("height", my + 10);
    el.innerHTML = svg;
    const now = $("sync-now");
    if (now && sparkX) { const x = syncX(FRAMES[f].step); now.setAttribute("x1", x); now.setAttribute("x2", x); }
  }

  let syncX = null;
  function syncChart() {
    const el = $("sync-chart");
    const W = el.clientWidth || 1000, H = 70;
    const last = FRAMES[FRAMES.length - 1].step || 1;
    const X = (step) => (step / last) * (W - 4) + 2;
    const Y = (n) => (H - 4 - (n / syncMax) * (H - 10)).toFixed(1);
    const line = (get, color) => `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${FRAMES.map((fr) => `${X(fr.step).toFixed(1)},${Y(get(fr.sync))}`).join(" ")}"/>`;
    let svg = "";
    FRAMES.forEach((fr, f) => {
      if (f > 0 && fr.sync.promotions > FRAMES[f - 1].sync.promotions)
        svg += `<line x1="${X(fr.step)}" x2="${X(fr.step)}" y1="0" y2="${H}" stroke="#a855f7" stroke-width="2"><title>promotion ${fr.sync.promotions}</title></line>`;
    });
    svg += line((y) => y.read_len, "#3b82f6") + line((y) => y.dirty_len || 0, "#f59e0b") + line((y) => y.misses, "#dc2626");
    svg += `<line id="sync-now" x1="0" x2="0" y1="0" y2="${H}" stroke="#111827" stroke-width="1.5"/>`;
    el.innerHTML = svg;
    el.onclick = $("spark").onclick ? (ev) => {
      const r = el.getBoundingClientRect();
      const step = ((ev.clientX - r.left - 2) / (r.width - 4)) * last;
      let best = 0;
      FRAMES.forEach((fr, f) => { if (Math.abs(fr.step - step) < Math.abs(FRAMES[best].step - step)) best = f; });
      show(best);
    } : null;
    $("sync-note").textContent = "Entries, from SyncMap::layout(): blue = value, yellow = nil (deleted, still in the map), "
      + "red = expunged (deleted, left out of the dirty map; a store must take the mutex and put it back). "
      + "Each key keeps its place in both maps. Timeline: blue = read snapshot entries, orange = dirty map entries, "
      + "red = misses, purple lines = promotions.";
    return X;
  }

  // ---- header, timeline ------------------------------------------------------------------------
  function setText(id, text, on) { const el = $(id); el.textContent = text; if (on !== undefined) el.classList.toggle("on", !!on); }

  function header(f) {
    const fr = FRAMES[f], s = fr.stats;
    setText("hdr-count", fmt(s.len));
    setText("hdr-b", String(s.b));
    setText("hdr-buckets", fmt(s.buckets));
    setText("hdr-seed", DATA.seed_id);
    setText("hdr-noverflow", fmt(s.noverflow));
    setText("hdr-pool", `${s.pool_used}/${s.pool}`);
    setText("hdr-load", s.load.toFixed(2));
    setText("hdr-growing", s.growing ? "yes" : "no", s.growing);
    setText("hdr-oldb", s.old_b == null ? "-" : String(s.old_b));
    setText("hdr-nevacuate", s.growing ? fmt(s.nevacuate) : "-");
    setText("hdr-evacuated", s.growing ? `${fmt(s.evacuated)}/${fmt(1 << s.old_b)}` : "-");
    setText("hdr-memory", s.memory >= 1 << 20 ? `${(s.memory / (1 << 20)).toFixed(1)} MiB` : `${(s.memory / 1024).toFixed(1)} KiB`);
    setText("hdr-step", `step ${fmt(fr.step)} of ${fmt(DATA.ops)}:`);
    $("hdr-step").dataset.step = fr.step;
    setText("hdr-op", fr.op || "(empty map)");
    setText("hdr-event", fr.event || "");
    setText("frame-label", `frame ${f + 1} / ${FRAMES.length}`);
  }

  function spark() {
    const el = $("spark");
    const W = el.clientWidth || 1000, H = 44;
    const last = FRAMES[FRAMES.length - 1].step || 1;
    let maxLen = 1;
    for (const fr of FRAMES) maxLen = Math.max(maxLen, fr.stats.len);
    const X = (step) => (step / last) * (W - 4) + 2;
    let svg = "";
    // Growth bands.
    for (let f = 0; f < FRAMES.length; f++) {
      if (!FRAMES[f].stats.growing) continue;
      // From the previous frame when it was growing too (the writes between were), else a tick.
      const x1 = X(f > 0 && FRAMES[f - 1].stats.growing ? FRAMES[f - 1].step : FRAMES[f].step), x2 = X(FRAMES[f].step);
      svg += `<rect x="${x1}" y="0" width="${Math.max(1.5, x2 - x1)}" height="${H - 4}" fill="#fde68a"/>`;
    }
    for (const fr of FRAMES) if (fr.event) svg += `<line x1="${X(fr.step)}" x2="${X(fr.step)}" y1="0" y2="${H - 4}" stroke="#f59e0b" stroke-width="1"/>`;
    const pts = FRAMES.map((fr) => `${X(fr.step).toFixed(1)},${(H - 6 - (fr.stats.len / maxLen) * (H - 12)).toFixed(1)}`).join(" ");
    svg += `<polyline points="${pts}" fill="none" stroke="#3b82f6" stroke-width="1.5"/>`;
    svg += `<line id="spark-now" x1="0" x2="0" y1="0" y2="${H}" stroke="#dc2626" stroke-width="2"/>`;
    $("spark-note").textContent = `blue: entries (0 to ${fmt(maxLen)}) over the ${fmt(DATA.ops)} writes · shaded: growing · orange: a growth starts or ends · click to jump`;
    el.innerHTML = svg;
    el.onclick = (ev) => {
      const r = el.getBoundingClientRect();
      const step = ((ev.clientX - r.left - 2) / (r.width - 4)) * last;
      let best = 0;
      FRAMES.forEach((fr, f) => { if (Math.abs(fr.step - step) < Math.abs(FRAMES[best].step - step)) best = f; });
      show(best);
    };
    return X;
  }

  let sparkX = null;
  let current = 0;
  function show(f) {
    f = Math.max(0, Math.min(FRAMES.length - 1, f | 0));
    current = f;
    $("timeline").value = f;
    header(f);
    draw(f);
    if (HAS_SYNC) drawSync(f);
    const now = $("spark-now");
    if (now && sparkX) { const x = sparkX(FRAMES[f].step); now.setAttribute("x1", x); now.setAttribute("x2", x); }
    document.body.dataset.frame = f;
    try { history.replaceState(null, "", "#frame=" + f); } catch (e) { /* file:// may refuse */ }
  }

  function legend() {
    const items = [["var(--full)", "full (hover: tophash, key, value)"], ["var(--empty-one)", "emptyOne"],
      ["var(--empty-rest)", "emptyRest"], ["var(--evac-x)", "evacuatedX"], ["var(--evac-y)", "evacuatedY"],
      ["var(--evac-empty)", "evacuatedEmpty"]];
    let h = items.map(([c, t]) => `<span><i style="background:${c}"></i>${t}</span>`).join("");
    h += `<span><i style="border:2px dashed var(--pool)"></i>overflow from the pool</span>`;
    h += `<span><i style="border:2px solid var(--target)"></i>bucket of this write</span>`;
    h += `<span><i style="border:2px solid var(--evac-x)"></i>evacuated in this step (X/Y arrows)</span>`;
    $("legend").innerHTML = h;
  }

  function detail(target) {
    const g = target.closest && target.closest(".bucket");
    const box = $("detail");
    if (!g) return;
    const i = +g.dataset.bucket, isOld = g.hasAttribute("data-old");
    const arr = arrayAt(isOld ? "old" : "new", current);
    const ch = arr && arr[i];
    let h = `<button type="button" id="detail-close" style="float:right">×</button><b>${isOld ? "old " : ""}bucket ${i}</b>`;
    if (!ch || ch.b.length === 0) h += `<p>${isOld ? "evacuated; memory returned to the OS" : "not initialised yet"}</p>`;
    else {
      h += `<table><tr><th>bmap</th><th>slot</th><th>tophash</th><th>state</th><th>key</th><th>value</th></tr>`;
      ch.b.forEach((b, k) => {
        const t = tops(b);
        for (let s = 0; s < SLOTS; s++) {
          const [kv, vv] = b.e && b.e[s] ? b.e[s].split("=") : ["", ""];
          h += `<tr><td>${k === 0 ? "head" : "ovf " + k + (b.p ? " (pool)" : "")}</td><td>${s}</td><td>${hex2(t[s])}</td><td>${cellState(t[s])[1]}</td><td>${esc(kv)}</td><td>${esc(vv)}</td></tr>`;
        }
      });
      h += "</table>";
      if (!DATA.entries) h += `<p>keys and values are kept only for maps up to ${DATA.entries_up_to} buckets</p>`;
    }
    box.innerHTML = h;
    box.hidden = false;
    $("detail-close").onclick = () => { box.hidden = true; };
  }

  let timer = null;
  function play() {
    if (timer) { clearInterval(timer); timer = null; $("play").innerHTML = "&#9654; play"; return; }
    if (current >= FRAMES.length - 1) show(0);
    $("play").innerHTML = "&#10074;&#10074; pause";
    timer = setInterval(() => { if (current >= FRAMES.length - 1) play(); else show(current + 1); }, 150);
  }

  function init() {
    $("source").textContent = `${DATA.source} · seed ${DATA.seed} · ${fmt(DATA.ops)} writes, ${FRAMES.length} frames`
      + (FRAMES.length < DATA.ops + 1 ? ` (every growth start and end, every write while growing first, then evenly spaced; at most ${DATA.max_frames})` : " (one per write)");
    const tl = $("timeline");
    tl.max = FRAMES.length - 1;
    tl.addEventListener("input", () => show(+tl.value));
    tl.addEventListener("change", () => show(+tl.value));
    $("prev").onclick = () => show(current - 1);
    $("next").onclick = () => show(current + 1);
    $("play").onclick = play;
    document.addEventListener("keydown", (ev) => {
      if (ev.target && ev.target.tagName === "INPUT") return;
      if (ev.key === "ArrowLeft") show(current - 1);
      else if (ev.key === "ArrowRight") show(current + 1);
      else if (ev.key === " ") { ev.preventDefault(); play(); }
    });
    $("map-svg").addEventListener("click", (ev) => detail(ev.target));
    $("heat").addEventListener("click", (ev) => {
      const nw = arrayAt("new", current);
      if (!nw) return;
      const r = $("heat").getBoundingClientRect();
      zoom.from = Math.max(0, Math.floor(((ev.clientX - r.left) / r.width) * nw.length - zoom.count / 2));
      draw(current);
    });
    $("zoom-from").addEventListener("change", (ev) => { zoom.from = Math.max(0, +ev.target.value | 0); draw(current); });
    $("zoom-count").addEventListener("change", (ev) => { zoom.count = Math.max(8, Math.min(512, +ev.target.value | 0)); draw(current); });
    legend();
    sparkX = spark();
    if (HAS_SYNC) { $("sync").hidden = false; syncX = syncChart(); }
    $("notes").textContent = "Every figure is read from the map's own stats() and layout() after the write shown. "
      + "Click a bucket for its slots; hover a slot for its tophash, key and value. ←/→ step, space plays.";
    const m = /frame=(\d+)/.exec(location.hash);
    show(m ? +m[1] : 0);
  }
  init();
})();
