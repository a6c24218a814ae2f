// @ts-check
// The dialog views' shared error state and "Recommended this week" (the Duplicates view is in
// duplicatesView.js). Each fills a root element with data from the bridge; errors are shown in
// the view, never thrown.

/**
 * @typedef {object} SDViewHost
 * @property {() => SDSettings} settings
 * @property {() => ReturnType<typeof SDApi.create>} client
 */

var SDViews = {
  /**
   * A bridge error as a state message (the daemon-down one says how to start it).
   * @param {Document} doc
   * @param {Element} root
   * @param {unknown} e
   * @param {string} what  e.g. "duplicates"
   * @param {() => unknown} retry
   */
  error(doc, root, e, what, retry) {
    const message = SDApi.message(e);
    if (e instanceof SDBridgeError && e.code === SDApi.DAEMON_DOWN) {
      SDRender.state(doc, root, "daemon-down", {
        title: "specter-desk is not running",
        text: "Start it in a terminal, then click Retry:",
        command: "specter-desk serve",
        detail: message,
        buttons: [{ label: "Retry", onClick: retry }],
      });
    } else {
      SDRender.state(doc, root, "error", {
        title: `Could not load ${what}`,
        text: message,
        buttons: [{ label: "Retry", onClick: retry }],
      });
    }
  },

  /**
   * "More like this" / "Less like this" buttons that send POST /v1/feedback.
   * @param {SDViewHost} host
   * @param {Document} doc
   * @param {PaperHit} hit
   */
  votes(host, doc, hit) {
    const status = SDRender.el(doc, "span", { cls: "sd-note sd-vote-status" });
    /** @param {"up" | "down"} vote */
    const send = async (vote) => {
      const result = await host.client().feedback(hit.key, vote);
      status.textContent = ` noted (${result.labels.up} up, ${result.labels.down} down)`;
    };
    return SDRender.el(doc, "div", { cls: "sd-votes" }, [
      SDRender.button(doc, "More like this", () => send("up"), "sd-button sd-vote-up"),
      SDRender.button(doc, "Less like this", () => send("down"), "sd-button sd-vote-down"),
      status,
    ]);
  },

  /**
   * Fill root with the week's recommendations.
   * @param {SDViewHost} host
   * @param {Document} doc
   * @param {HTMLElement} root
   * @param {{ since?: string }} [options]
   */
  async recommendations(host, doc, root, { since = "week" } = {}) {
    const again = () => SDViews.recommendations(host, doc, root, { since });
    SDRender.state(doc, root, "loading", { title: "Finding recommendations…" });
    /** @type {RecommendationsResponse} */
    let data;
    try {
      data = await host.client().recommendations({ since, n: Math.max(10, host.settings().k) });
    } catch (e) {
      SDViews.error(doc, root, e, "recommendations", again);
      return;
    }
    const results = Array.isArray(data.results) ? data.results : [];
    if (!results.length) {
      SDRender.state(doc, root, "empty", {
        title: "No recommendations this week",
        text: data.message || "Add or read papers in Zotero this week; recommendations are built from what you added recently.",
      });
      return;
    }
    SDRender.clear(root);
    root.appendChild(SDRender.el(doc, "h2", { cls: "sd-heading", text: `Recommended this week (${results.length})` }));
    const seeds = Array.isArray(data.seeds) ? data.seeds : [];
    if (seeds.length) {
      root.appendChild(SDRender.el(doc, "div", { cls: "sd-seeds", text: `Based on ${seeds.length} paper(s) you added: ${seeds.slice(0, 3).map((s) => s.title).join("; ")}${seeds.length > 3 ? "…" : ""}` }));
    }
    const handlers = {
      onOpen: (/** @type {PaperHit} */ hit) => SDActions.selectItem(hit.key),
      onAdd: (/** @type {PaperHit} */ hit) => SDActions.addByIdentifier(hit),
    };
    const list = SDRender.el(doc, "ol", { cls: "sd-results", attrs: { "data-sd-state": "results" } });
    for (const hit of results) {
      const because = (hit.because || []).slice(0, 2).map((b) =>
        SDRender.el(doc, "div", { cls: "sd-because", text: `because you added “${b.title}” (${SDRender.formatScore(b.score)})` }));
      list.appendChild(SDRender.hitRow(doc, hit, handlers, [...because, SDViews.votes(host, doc, hit)]));
    }
    root.appendChild(list);
  },
};
