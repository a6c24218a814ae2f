// @ts-check
// The "Related papers" item-pane section.

/**
 * @typedef {object} SDSectionHost  what the section needs from the plugin
 * @property {string} pluginID
 * @property {string} rootURI
 * @property {() => SDSettings} settings
 * @property {() => ReturnType<typeof SDApi.create>} client
 * @property {() => string[]} tokenPaths  where the token file is looked for
 */
/**
 * @typedef {object} SDSectionView  where and for what the section draws
 * @property {HTMLElement} body
 * @property {Document} doc
 * @property {Zotero.Item} item
 * @property {(summary: string) => unknown} setSectionSummary
 */
/**
 * @typedef {object} SDOutcome  one answer of the bridge for an item, or why there is none
 * @property {number} number  the request's number (body.dataset.sdRequest once drawn)
 * @property {string} signature  SDRelatedSection.signature() when it was asked
 * @property {RelatedResponse} [data]
 * @property {unknown} [error]
 */

var SDRelatedSection = {
  PANE_ID: "specter-desk-related",

  /**
   * The registerSection options (built apart from register() so tsc checks every field).
   * @param {SDSectionHost} host
   * @returns {_ZoteroTypes.ItemPaneManagerSection.ItemDetailsSectionOptions<"specter-desk-related">}
   */
  options(host) {
    return {
      paneID: "specter-desk-related",
      pluginID: host.pluginID,
      header: {
        l10nID: "specter-desk-related-header",
        icon: "chrome://specter-desk/content/icons/related-16.svg",
      },
      sidenav: {
        l10nID: "specter-desk-related-sidenav",
        icon: "chrome://specter-desk/content/icons/related-20.svg",
      },
      onItemChange: ({ item, setEnabled }) => {
        setEnabled(Boolean(item && item.isRegularItem()));
      },
      onRender: (view) => SDRelatedSection.renderNow(host, view),
      onAsyncRender: async ({ body, doc, item, setSectionSummary }) => {
        if (!item || !item.isRegularItem()) return;
        await SDRelatedSection.render(host, { body, doc, item, setSectionSummary });
      },
    };
  },

  /**
   * @param {SDSectionHost} host
   * @returns {string | false}
   */
  register(host) {
    return Zotero.ItemPaneManager.registerSection(SDRelatedSection.options(host));
  },

  /** The last answer (or error) per item key, newest last, at most LAST_SHOWN_MAX. */
  lastShown: /** @type {Map<string, SDOutcome>} */ (new Map()),
  LAST_SHOWN_MAX: 100,
  /** The newest request number per item key (older answers are dropped). */
  latest: /** @type {Map<string, number>} */ (new Map()),
  requests: 0,

  /**
   * What the request depends on besides the item: a change means the last answer is stale.
   * @param {SDSectionHost} host
   */
  signature(host) {
    try {
      const { url, k, model } = host.settings();
      return JSON.stringify([url, k, model]);
    } catch (_e) {
      return "";
    }
  },

  /**
   * onRender (synchronous): the last answer for this item, else a placeholder. Zotero calls
   * onAsyncRender only once per item in a row: after A, then B (its section out of view, so
   * only onRender ran), then A again, it skips A's onAsyncRender although B's onRender took
   * the body, so the last answer is what A shows (fetched again when the settings changed).
   * @param {SDSectionHost} host
   * @param {SDSectionView} view
   */
  renderNow(host, view) {
    const { body, doc, item, setSectionSummary } = view;
    body.dataset.sdItem = item ? item.key : ""; // which item the body shows (tests wait for it)
    const last = item ? SDRelatedSection.lastShown.get(item.key) : undefined;
    if (!item || !last) {
      SDRender.state(doc, body, "loading", { title: "Finding related papers…" });
      setSectionSummary("");
      return;
    }
    SDRelatedSection.draw(host, view, last);
    if (last.signature !== SDRelatedSection.signature(host)) {
      SDRelatedSection.render(host, view).catch((e) => Zotero.logError(e));
    }
  },

  /**
   * Fetch and show the related papers of item; every failure becomes a state in the body.
   * The answer is remembered for renderNow, and drawn if the body still shows this item.
   * @param {SDSectionHost} host
   * @param {SDSectionView} view
   * @param {{ placeholder?: boolean }} [options]  show "Finding related papers…" meanwhile
   *   (default: unless the body already shows an answer for this item)
   */
  async render(host, view, { placeholder } = {}) {
    const { body, doc, item } = view;
    const number = ++SDRelatedSection.requests;
    SDRelatedSection.latest.set(item.key, number);
    const shown = body.dataset.sdItem === item.key && SDRelatedSection.lastShown.has(item.key);
    body.dataset.sdItem = item.key;
    if (placeholder ?? !shown) SDRender.state(doc, body, "loading", { title: "Finding related papers…" });
    const signature = SDRelatedSection.signature(host);
    /** @type {SDOutcome} */
    let outcome;
    try {
      const settings = host.settings();
      outcome = { number, signature, data: await host.client().related(item.key, { k: settings.k, model: settings.model }) };
    } catch (e) {
      outcome = { number, signature, error: e };
    }
    if (SDRelatedSection.latest.get(item.key) !== number) return; // a newer request for it
    SDRelatedSection.remember(item.key, outcome);
    if (body.dataset.sdItem === item.key) SDRelatedSection.draw(host, view, outcome);
  },

  /**
   * @param {string} key
   * @param {SDOutcome} outcome
   */
  remember(key, outcome) {
    const last = SDRelatedSection.lastShown;
    last.delete(key);
    last.set(key, outcome);
    for (const old of last.keys()) {
      if (last.size <= SDRelatedSection.LAST_SHOWN_MAX) break;
      last.delete(old);
    }
  },

  /**
   * Show an answer of the bridge (or its error) for item in the body.
   * @param {SDSectionHost} host
   * @param {SDSectionView} view
   * @param {SDOutcome} outcome
   */
  draw(host, { body, doc, item, setSectionSummary }, outcome) {
    body.dataset.sdItem = item.key;
    body.dataset.sdRequest = String(outcome.number);
    const rerender = () => SDRelatedSection.render(host, { body, doc, item, setSectionSummary }, { placeholder: true });
    const hasLocalAbstract = Boolean(String(item.getField("abstractNote") || "").trim());
    const data = outcome.data;
    if (!data) {
      setSectionSummary("");
      SDRelatedSection.showError(host, doc, body, outcome.error, hasLocalAbstract, rerender);
      return;
    }
    const handlers = {
      onOpen: (/** @type {PaperHit} */ hit) => SDActions.selectItem(hit.key, item.libraryID),
      onAdd: (/** @type {PaperHit} */ hit) => SDActions.addByIdentifier(hit),
    };
    const hits = Array.isArray(data.related) ? data.related : [];
    setSectionSummary(hits.length ? `${hits.length} related` : "");
    const hasAbstract = hasLocalAbstract || Boolean(data.item && data.item.has_abstract);
    const notice = hasAbstract ? null : SDRender.message(doc, "no-abstract", SDRelatedSection.NO_ABSTRACT);
    if (!hits.length) {
      if (notice) {
        SDRender.clear(body);
        body.appendChild(notice);
      } else {
        SDRender.state(doc, body, "empty", { title: "No related papers yet.", text: "specter-desk found no other embedded papers; sync or import more papers first." });
      }
      return;
    }
    SDRender.results(doc, body, hits, handlers, notice);
  },

  /** @param {SDSectionHost} host */
  url(host) {
    try {
      return host.settings().url;
    } catch (_e) {
      return "the bridge URL";
    }
  },

  /**
   * Where the token file was looked for (for the no-token state).
   * @param {SDSectionHost} host
   * @returns {string[]}
   */
  tokenPaths(host) {
    try {
      return host.tokenPaths();
    } catch (_e) {
      return ["the daemon's data folder"];
    }
  },

  NO_ABSTRACT: {
    title: "This item has no abstract",
    text: "Similarity is computed from the title and the abstract, so with a title alone the "
      + "related papers are rough. Add an abstract in the Info section (or let Zotero retrieve "
      + "metadata) for better results.",
  },

  /**
   * @param {SDSectionHost} host
   * @param {Document} doc
   * @param {HTMLElement} body
   * @param {unknown} e
   * @param {boolean} hasAbstract
   * @param {() => unknown} retry
   */
  showError(host, doc, body, e, hasAbstract, retry) {
    const err = e instanceof SDBridgeError ? e : null;
    const code = err ? err.code : "internal";
    const message = SDApi.message(e);
    const retryButton = { label: "Retry", onClick: retry };
    if (code === SDApi.DAEMON_DOWN) {
      SDRender.state(doc, body, "daemon-down", {
        title: "specter-desk is not running",
        text: "Related papers come from the specter-desk daemon on this computer. Start it in a terminal, then click Retry:",
        command: "specter-desk serve",
        detail: `No answer at ${SDRelatedSection.url(host)}.`,
        buttons: [retryButton],
      });
    } else if (code === "not_embedded") {
      SDRender.state(doc, body, hasAbstract ? "not-embedded" : "no-abstract", hasAbstract
        ? { title: "Not embedded yet", text: "specter-desk has this item but is still computing its embedding. Related papers appear when it is done.", detail: message, buttons: [retryButton] }
        : { ...SDRelatedSection.NO_ABSTRACT, detail: message, buttons: [retryButton] });
    } else if (code === "not_found") {
      SDRender.state(doc, body, "not-synced", {
        title: "Not in specter-desk yet",
        text: "This item has not been synced to specter-desk. Sync now, then retry in a moment.",
        detail: message,
        buttons: [
          { label: "Sync now", onClick: async () => { await host.client().sync(); retry(); } },
        ],
      });
    } else if (code === SDApi.NO_TOKEN) {
      SDRender.state(doc, body, "no-token", {
        title: "specter-desk's token was not found",
        text: "The plugin reads the daemon's token from its bridge-token file. Start specter-desk once (it writes the file), or paste the output of this command into Settings → specter-desk → Token:",
        command: "specter-desk bridge token",
        detail: `Looked in: ${SDRelatedSection.tokenPaths(host).join(", ")}`,
        buttons: [retryButton],
      });
    } else if (code === "unauthorized") {
      SDRender.state(doc, body, "unauthorized", {
        title: "specter-desk refused the token",
        text: "Leave the token empty in Settings → specter-desk to read it from the daemon's token file, or paste the output of:",
        command: "specter-desk bridge token",
        detail: message,
        buttons: [retryButton],
      });
    } else {
      SDRender.state(doc, body, "error", {
        title: "Could not load related papers",
        text: message,
        detail: err ? `code: ${err.code}` : undefined,
        buttons: [retryButton],
      });
    }
  },
};
