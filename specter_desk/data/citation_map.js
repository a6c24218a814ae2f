// specter-desk citation map: a small force layout and an SVG renderer in plain JavaScript.
// Written for this project; no libraries, no network. The data comes from #map-data.
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const errors = [];
  function noteError(message) {
    errors.push(String(message));
    document.body.dataset.errors = String(errors.length);
  }
  window.addEventListener("error", (event) => noteError(event.message));
  window.addEventListener("unhandledrejection", (event) => noteError(event.reason));

  const data = JSON.parse(document.getElementById("map-data").textContent);
  const svg = document.getElementById("map");
  const viewport = document.getElementById("viewport");
  const edgeLayer = document.getElementById("edges");
  const nodeLayer = document.getElementById("nodes");
  const labelLayer = document.getElementById("labels");
  const details = document.getElementById("details");
  const hint = details.innerHTML;

  const nodes = data.nodes.map((n) => ({ ...n }));
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const links = data.edges
    .filter((e) => byId.has(e.source) && byId.has(e.target) && e.source !== e.target)
    .map((e) => ({ source: byId.get(e.source), target: byId.get(e.target), kind: e.kind, weight: e.weight }));
  for (const n of nodes) {
    n.r = 5 + 3 * Math.log1p(Math.max(n.cited_by || 0, 0));
    n.links = [];
  }
  for (const l of links) {
    l.source.links.push(l);
    l.target.links.push(l);
  }

  // -- colours ---------------------------------------------------------------------------
  const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  const years = nodes.map((n) => n.year).filter((y) => typeof y === "number");
  const minYear = Math.min(...years);
  const maxYear = Math.max(...years);
  const groups = [];
  function yearColour(year) {
    if (typeof year !== "number") return "#b8bfca";
    const t = maxYear > minYear ? (year - minYear) / (maxYear - minYear) : 1;
    return `hsl(${Math.round(215 - t * 195)}, 65%, ${Math.round(58 - t * 8)}%)`;
  }
  function groupColour(node) {
    const group = (node.collections && node.collections[0]) || (node.kind === "outside" ? "outside your library" : "no collection");
    let index = groups.indexOf(group);
    if (index < 0) {
      groups.push(group);
      index = groups.length - 1;
    }
    return group === "outside your library" ? "#c9ced6" : PALETTE[index % PALETTE.length];
  }
  for (const n of nodes) n.colour = data.color === "collection" ? groupColour(n) : yearColour(n.year);

  // -- layout: Fruchterman-Reingold with cooling, seeded so the map is the same each time ----
  function seeded(seed) {
    return function () {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  function layout(width, height) {
    const random = seeded(17);
    const n = nodes.length;
    const k = Math.sqrt((width * height) / Math.max(n, 1)) * 0.75;
    const cx = width / 2;
    const cy = height / 2;
    nodes.forEach((node, i) => {
      const angle = i * 2.399963; // the golden angle: an even spiral
      const radius = Math.sqrt(i + 1) * k * 0.5;
      node.x = cx + radius * Math.cos(angle) + random();
      node.y = cy + radius * Math.sin(angle) + random();
      if (node.focus && n > 1 && nodes.filter((m) => m.focus).length === 1) {
        node.x = cx;
        node.y = cy;
        node.pinned = true;
      }
    });
    const iterations = n <= 300 ? 300 : Math.max(40, Math.floor(120000 / n));
    for (let it = 0; it < iterations; it++) {
      const temperature = (Math.min(width, height) / 8) * (1 - it / iterations) + 0.5;
      for (const node of nodes) {
        node.dx = 0;
        node.dy = 0;
      }
      for (let i = 0; i < n; i++) {
        const a = nodes[i];
        for (let j = i + 1; j < n; j++) {
          const b = nodes[j];
          let dx = a.x - b.x;
          let dy = a.y - b.y;
          let d2 = dx * dx + dy * dy;
          if (d2 < 0.01) {
            dx = random() - 0.5;
            dy = random() - 0.5;
            d2 = dx * dx + dy * dy + 0.01;
          }
          const d = Math.sqrt(d2);
          const force = (k * k) / d + (a.r + b.r) * 2;
          const fx = (dx / d) * force;
          const fy = (dy / d) * force;
          a.dx += fx;
          a.dy += fy;
          b.dx -= fx;
          b.dy -= fy;
        }
      }
      for (const l of links) {
        const dx = l.source.x - l.target.x;
        const dy = l.source.y - l.target.y;
        const d = Math.max(Math.sqrt(dx * dx + dy * dy), 0.01);
        const force = ((d * d) / k) * (l.kind === "similar" ? 0.35 : 1);
        const fx = (dx / d) * force;
        const fy = (dy / d) * force;
        l.source.dx -= fx;
        l.source.dy -= fy;
        l.target.dx += fx;
        l.target.dy += fy;
      }
      for (const node of nodes) {
        node.dx -= (node.x - cx) * 0.03 * k * 0.05;
        node.dy -= (node.y - cy) * 0.03 * k * 0.05;
        if (node.pinned) continue;
        const d = Math.max(Math.sqrt(node.dx * node.dx + node.dy * node.dy), 0.01);
        const step = Math.min(d, temperature);
        node.x += (node.dx / d) * step;
        node.y += (node.dy / d) * step;
      }
    }
  }

  // -- rendering --------------------------------------------------------------------------
  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    if (parent) parent.appendChild(node);
    return node;
  }
  function edgeEnds(l) {
    const dx = l.target.x - l.source.x;
    const dy = l.target.y - l.source.y;
    const d = Math.max(Math.sqrt(dx * dx + dy * dy), 0.01);
    const pad = l.kind === "cites" ? l.target.r + 2 : l.target.r;
    return [l.source.x + (dx / d) * l.source.r, l.source.y + (dy / d) * l.source.r, l.target.x - (dx / d) * pad, l.target.y - (dy / d) * pad];
  }
  function placeEdge(l) {
    const [x1, y1, x2, y2] = edgeEnds(l);
    l.line.setAttribute("x1", x1.toFixed(1));
    l.line.setAttribute("y1", y1.toFixed(1));
    l.line.setAttribute("x2", x2.toFixed(1));
    l.line.setAttribute("y2", y2.toFixed(1));
  }
  function placeNode(node) {
    node.group.setAttribute("transform", `translate(${node.x.toFixed(1)},${node.y.toFixed(1)})`);
    if (node.label) {
      node.label.setAttribute("x", (node.x + node.r + 3).toFixed(1));
      node.label.setAttribute("y", (node.y + 3).toFixed(1));
    }
  }
  function shortLabel(node) {
    const who = node.first_author || node.title.split(" ").slice(0, 3).join(" ");
    return node.year ? `${who} ${node.year}` : who;
  }
  function render() {
    for (const l of links) {
      l.line = el("line", { class: `edge ${l.kind}` }, edgeLayer);
      placeEdge(l);
    }
    const labelled = new Set(
      nodes
        .slice()
        .sort((a, b) => Number(b.focus) - Number(a.focus) || b.cited_by - a.cited_by)
        .slice(0, Math.min(25, nodes.length))
        .map((n) => n.id)
    );
    for (const node of nodes) {
      const link = el("a", { href: node.url || "#", target: node.url && node.url.startsWith("http") ? "_blank" : "_self" }, nodeLayer);
      node.group = el("g", { class: `node ${node.kind}${node.focus ? " focus" : ""}`, "data-id": node.id }, link);
      el("circle", { r: node.r.toFixed(1), fill: node.colour }, node.group);
      const title = el("title", {}, node.group);
      title.textContent = `${node.title} (${node.year || "n.d."})`;
      if (labelled.has(node.id)) {
        node.label = el("text", { class: "label" }, labelLayer);
        node.label.textContent = shortLabel(node);
      }
      node.anchor = link;
      placeNode(node);
      link.addEventListener("mouseenter", () => show(node));
      link.addEventListener("focus", () => show(node));
      link.addEventListener("click", (event) => {
        if (dragged || !node.url) event.preventDefault();
      });
      link.addEventListener("pointerdown", (event) => startDrag(event, node));
    }
  }

  function show(node) {
    for (const l of links) l.line.classList.toggle("hot", l.source === node || l.target === node);
    const cites = node.links.filter((l) => l.kind === "cites" && l.source === node).length;
    const citedHere = node.links.filter((l) => l.kind === "cites" && l.target === node).length;
    details.innerHTML = "";
    const heading = document.createElement("h2");
    heading.textContent = node.title;
    const meta = document.createElement("p");
    meta.className = "meta";
    meta.textContent = [node.first_author, node.year, `cited ${node.cited_by} times`, node.kind === "library" ? "in your library" : node.kind === "candidate" ? "a candidate" : "not in your library"]
      .filter(Boolean)
      .join(" · ");
    const here = document.createElement("p");
    here.textContent = `On this map: cites ${cites}, cited by ${citedHere}.`;
    details.append(heading, meta, here);
    if (node.url) {
      const open = document.createElement("a");
      open.href = node.url;
      open.textContent = node.url.startsWith("zotero:") ? "Open in Zotero" : "Open the DOI / page";
      if (node.url.startsWith("http")) open.target = "_blank";
      details.append(open);
    }
    details.append(legend());
  }

  function legend() {
    const box = document.createElement("div");
    box.id = "legend";
    const rows = [];
    if (data.color === "collection") {
      for (let i = 0; i < groups.length; i++) rows.push([groups[i] === "outside your library" ? "#c9ced6" : PALETTE[i % PALETTE.length], groups[i]]);
    } else if (years.length) {
      rows.push([yearColour(minYear), `${minYear} (oldest)`], [yearColour(maxYear), `${maxYear} (newest)`]);
    }
    rows.push(["#ffffff", "size: how often a paper is cited"]);
    for (const [colour, text] of rows) {
      const row = document.createElement("div");
      row.className = "row";
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = colour;
      swatch.style.border = "1px solid #c5ccd6";
      const label = document.createElement("span");
      label.textContent = text;
      row.append(swatch, label);
      box.append(row);
    }
    return box;
  }

  // -- zoom, pan, drag ------------------------------------------------------------------------
  let view = { x: 0, y: 0, scale: 1 };
  let dragged = false;
  function applyView() {
    viewport.setAttribute("transform", `translate(${view.x.toFixed(1)},${view.y.toFixed(1)}) scale(${view.scale.toFixed(3)})`);
  }
  function toMap(event) {
    const box = svg.getBoundingClientRect();
    return { x: (event.clientX - box.left - view.x) / view.scale, y: (event.clientY - box.top - view.y) / view.scale };
  }
  function startDrag(event, node) {
    event.stopPropagation();
    dragged = false;
    const start = toMap(event);
    const origin = { x: node.x, y: node.y };
    function move(e) {
      const p = toMap(e);
      if (Math.abs(p.x - start.x) + Math.abs(p.y - start.y) > 3) dragged = true;
      node.x = origin.x + p.x - start.x;
      node.y = origin.y + p.y - start.y;
      placeNode(node);
      for (const l of node.links) placeEdge(l);
    }
    function up() {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
    }
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }
  svg.addEventListener("pointerdown", (event) => {
    const start = { x: event.clientX - view.x, y: event.clientY - view.y };
    svg.classList.add("panning");
    function move(e) {
      view.x = e.clientX - start.x;
      view.y = e.clientY - start.y;
      applyView();
    }
    function up() {
      svg.classList.remove("panning");
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
    }
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  });
  svg.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      const box = svg.getBoundingClientRect();
      const px = event.clientX - box.left;
      const py = event.clientY - box.top;
      const factor = Math.exp(-event.deltaY * 0.0015);
      const scale = Math.min(8, Math.max(0.1, view.scale * factor));
      view.x = px - ((px - view.x) * scale) / view.scale;
      view.y = py - ((py - view.y) * scale) / view.scale;
      view.scale = scale;
      applyView();
    },
    { passive: false }
  );

  // -- filters ----------------------------------------------------------------------------------
  function filter() {
    const text = document.getElementById("map-search").value.trim().toLowerCase();
    const similar = document.getElementById("show-similar").checked;
    const outside = document.getElementById("show-outside").checked;
    for (const node of nodes) {
      node.hidden = !outside && node.kind === "outside";
      node.anchor.classList.toggle("hidden", node.hidden);
      if (node.label) node.label.classList.toggle("hidden", node.hidden);
      const hit = text && `${node.title} ${node.first_author}`.toLowerCase().includes(text);
      node.group.classList.toggle("match", Boolean(hit));
      node.group.classList.toggle("faded", Boolean(text) && !hit);
    }
    for (const l of links) {
      l.line.classList.toggle("hidden", (l.kind === "similar" && !similar) || l.source.hidden || l.target.hidden);
    }
  }
  document.getElementById("map-search").addEventListener("input", filter);
  document.getElementById("show-similar").addEventListener("change", filter);
  document.getElementById("show-outside").addEventListener("change", filter);

  // -- go -------------------------------------------------------------------------------------------
  function fit() {
    const box = svg.getBoundingClientRect();
    const xs = nodes.map((n) => n.x);
    const ys = nodes.map((n) => n.y);
    const pad = 40;
    const w = Math.max(...xs) - Math.min(...xs) + 2 * pad;
    const h = Math.max(...ys) - Math.min(...ys) + 2 * pad;
    view.scale = Math.min(4, Math.max(0.1, Math.min(box.width / w, box.height / h)));
    view.x = box.width / 2 - ((Math.min(...xs) + Math.max(...xs)) / 2) * view.scale;
    view.y = box.height / 2 - ((Math.min(...ys) + Math.max(...ys)) / 2) * view.scale;
    applyView();
  }
  const box = svg.getBoundingClientRect();
  layout(Math.max(box.width, 400), Math.max(box.height, 300));
  render();
  fit();
  details.innerHTML = hint;
  details.querySelector("#legend").replaceWith(legend());
  const library = nodes.filter((n) => n.kind === "library").length;
  document.getElementById("map-count").textContent = `${nodes.length} papers (${library} in your library), ${links.filter((l) => l.kind === "cites").length} citations`;
  document.body.dataset.nodes = String(nodeLayer.querySelectorAll("circle").length);
  const frame = svg.getBoundingClientRect();
  document.body.dataset.visible = String(
    [...nodeLayer.querySelectorAll("circle")].filter((c) => {
      const r = c.getBoundingClientRect();
      return r.width > 0 && r.right > frame.left && r.left < frame.right && r.bottom > frame.top && r.top < frame.bottom;
    }).length
  );
  document.body.dataset.edges = String(edgeLayer.querySelectorAll("line").length);
  document.body.dataset.rendered = errors.length ? "failed" : "yes";
})();
