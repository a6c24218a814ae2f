// @ts-check
// DOM for the plugin's views: the related-papers section states, result rows, dialogs.
// Pure DOM (no Zotero calls), so tests and the screenshot render the same code.

var SDRender = {
  HTML_NS: "http://www.w3.org/1999/xhtml",

  /**
   * Create an HTML element.
   * @param {Document} doc
   * @param {string} tag
   * @param {{ cls?: string, text?: string, attrs?: Record<string, string> }} [opts]
   * @param {(Node | null | undefined | false)[]} [children]
   * @returns {HTMLElement}
   */
  el(doc, tag, { cls, text, attrs } = {}, children = []) {
    const node = /** @type {HTMLElement} */ (doc.createElementNS(SDRender.HTML_NS, tag));
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    for (const child of children) if (child) node.appendChild(child);
    return node;
  },

  /** @param {Element} body */
  clear(body) {
    while (body.firstChild) body.firstChild.remove();
  },

  /**
   * A button that never lets an exception escape (errors go to onError).
   * @param {Document} doc
   * @param {string} label
   * @param {() => unknown} onClick
   * @param {string} [cls]
   */
  button(doc, label, onClick, cls = "sd-button") {
    const node = /** @type {HTMLButtonElement} */ (SDRender.el(doc, "button", { cls, text: label, attrs: { type: "button" } }));
    node.addEventListener("click", (event) => {
      event.preventDefault();
      event.stopPropagation();
      Promise.resolve()
        .then(onClick)
        .catch((e) => {
          node.after(SDRender.el(doc, "div", { cls: "sd-inline-error", text: SDApi.message(e) }));
        });
    });
    return node;
  },

  /**
   * Replace the body with a state message.
   * @param {Document} doc
   * @param {Element} body
   * @param {string} state  data-sd-state value: loading, no-abstract, daemon-down, ...
   * @param {{ title: string, text?: string, command?: string, detail?: string, buttons?: { label: string, onClick: () => unknown }[] }} message
   * @returns {HTMLElement}
   */
  state(doc, body, state, { title, text, command, detail, buttons = [] }) {
    SDRender.clear(body);
    const box = SDRender.message(doc, state, { title, text, command, detail, buttons });
    body.appendChild(box);
    return box;
  },

  /**
   * A state message element, not attached anywhere.
   * @param {Document} doc
   * @param {string} state
   * @param {{ title: string, text?: string, command?: string, detail?: string, buttons?: { label: string, onClick: () => unknown }[] }} message
   */
  message(doc, state, { title, text, command, detail, buttons = [] }) {
    return SDRender.el(doc, "div", { cls: `sd-state sd-state-${state}`, attrs: { "data-sd-state": state, role: "status" } }, [
      SDRender.el(doc, "div", { cls: "sd-state-title", text: title }),
      text ? SDRender.el(doc, "div", { cls: "sd-state-text", text }) : null,
      command ? SDRender.el(doc, "code", { cls: "sd-command", text: command }) : null,
      detail ? SDRender.el(doc, "div", { cls: "sd-state-detail", text: detail }) : null,
      buttons.length
        ? SDRender.el(doc, "div", { cls: "sd-buttons" }, buttons.map((b) => SDRender.button(doc, b.label, b.onClick)))
        : null,
    ]);
  },

  /** @param {number} score */
  formatScore(score) {
    return Number.isFinite(score) ? score.toFixed(2) : "";
  },

  /**
   * "Vaswani · 2017 · NeurIPS" from whichever parts a hit has.
   * @param {{ first_author?: string, year?: number | null, venue?: string }} hit
   */
  meta(hit) {
    return [hit.first_author, hit.year ? String(hit.year) : "", hit.venue].filter(Boolean).join(" · ");
  },

  /**
   * One result row: title (click opens a library item), meta, score; for a candidate an
   * "Add to library" button when it has a DOI or arXiv id.
   * @param {Document} doc
   * @param {PaperHit} hit
   * @param {{ onOpen: (hit: PaperHit) => unknown, onAdd: (hit: PaperHit) => unknown }} handlers
   * @param {Node[]} [extra]  more nodes appended to the row (e.g. "because" lines)
   * @param {string} [scoreTitle]  what the score is (a tooltip)
   */
  hitRow(doc, hit, { onOpen, onAdd }, extra = [], scoreTitle = "cosine similarity") {
    const inLibrary = hit.pool === "library";
    const title = SDRender.titleNode(doc, hit.title || hit.key, inLibrary ? () => onOpen(hit) : null);
    const action = inLibrary ? null : hit.doi || hit.arxiv_id
      ? SDRender.addButton(doc, () => onAdd(hit))
      : SDRender.el(doc, "span", { cls: "sd-note", text: "no DOI or arXiv id to add it by" });
    return SDRender.el(doc, "li", { cls: `sd-hit sd-pool-${inLibrary ? "library" : "candidates"}`, attrs: { "data-key": hit.key, "data-pool": hit.pool } }, [
      SDRender.el(doc, "div", { cls: "sd-hit-main" }, [
        title,
        SDRender.el(doc, "div", { cls: "sd-meta", text: SDRender.meta(hit) }),
        inLibrary ? null : SDRender.el(doc, "span", { cls: "sd-badge", text: "not in your library" }),
        action,
        hit.reasons && hit.reasons.length
          ? SDRender.el(doc, "div", { cls: "sd-reasons", text: hit.reasons.join("; ") })
          : null,
        ...extra,
      ]),
      SDRender.el(doc, "span", { cls: "sd-score", text: SDRender.formatScore(hit.score), attrs: { title: scoreTitle } }),
    ]);
  },

  /**
   * A paper's title: a button that shows the library item when onOpen is given, else text.
   * @param {Document} doc
   * @param {string} title
   * @param {(() => unknown) | null} onOpen
   */
  titleNode(doc, title, onOpen) {
    const node = onOpen
      ? SDRender.button(doc, title, onOpen, "sd-title sd-link")
      : SDRender.el(doc, "span", { cls: "sd-title", text: title });
    node.setAttribute("title", onOpen ? "Show in library" : title);
    return node;
  },

  /**
   * "Add to library": disabled and "Adding…" while add() runs, "Added" after; on a failure
   * it can be clicked again and the error shows beside it.
   * @param {Document} doc
   * @param {() => unknown} add
   */
  addButton(doc, add) {
    const button = SDRender.button(doc, "Add to library", async () => {
      button.setAttribute("disabled", "true");
      button.textContent = "Adding…";
      try {
        await add();
        button.textContent = "Added";
      } catch (e) {
        button.removeAttribute("disabled");
        button.textContent = "Add to library";
        throw e;
      }
    }, "sd-button sd-add");
    return button;
  },

  /**
   * Replace the body with a list of hits (optionally under a notice element).
   * @param {Document} doc
   * @param {Element} body
   * @param {PaperHit[]} hits
   * @param {{ onOpen: (hit: PaperHit) => unknown, onAdd: (hit: PaperHit) => unknown }} handlers
   * @param {HTMLElement | null} [notice]
   * @param {string} [scoreTitle]  what the scores are (a tooltip)
   */
  results(doc, body, hits, handlers, notice = null, scoreTitle = "cosine similarity") {
    SDRender.clear(body);
    if (notice) body.appendChild(notice);
    const list = SDRender.el(doc, "ol", { cls: "sd-results", attrs: { "data-sd-state": notice ? "results-with-notice" : "results" } },
      hits.map((hit) => SDRender.hitRow(doc, hit, handlers, [], scoreTitle)));
    body.appendChild(list);
    return list;
  },
};
