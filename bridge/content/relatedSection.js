// @ts-check
// The "Related papers" item-pane section.

/**
 * @typedef {object} SDSectionHost  what the section needs from the plugin
 * @property {string} pluginID
 * @property {string} rootURI
 * @property {() => SDSettings} settings
 * @property {() => ReturnType<typeof SDApi.create>} client
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
        icon: host.rootURI + "content/icons/related-16.svg",
      },
      sidenav: {
        l10nID: "specter-desk-related-sidenav",
        icon: host.rootURI + "content/icons/related-20.svg",
      },
      onItemChange: ({ item, setEnabled }) => {
        setEnabled(Boolean(item && item.isRegularItem()));
      },
      onRender: ({ body, doc, setSectionSummary }) => {
        SDRender.state(doc, body, "loading", { title: "Finding related papers…" });
        setSectionSummary("");
      },
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

  /**
   * Fetch and show the related papers of item; every failure becomes a state in the body.
   * @param {SDSectionHost} host
   * @param {{ body: HTMLElement, doc: Document, item: Zotero.Item, setSectionSummary: (s: string) => unknown }} view
   */
  async render(host, { body, doc, item, setSectionSummary }) {
    const ticket = String(Number(body.dataset.sdTicket || "0") + 1);
    body.dataset.sdTicket = ticket;
    const current = () => body.dataset.sdTicket === ticket;
    const rerender = () => SDRelatedSection.render(host, { body, doc, item, setSectionSummary });
    const handlers = {
      onOpen: (/** @type {PaperHit} */ hit) => SDActions.selectItem(hit.key, item.libraryID),
      onAdd: (/** @type {PaperHit} */ hit) => SDActions.addByIdentifier(hit),
    };
    SDRender.state(doc, body, "loading", { title: "Finding related papers…" });
    const hasLocalAbstract = Boolean(String(item.getField("abstractNote") || "").trim());
    let settings;
    /** @type {RelatedResponse} */
    let data;
    try {
      settings = host.settings();
      data = await host.client().related(item.key, { k: settings.k, model: settings.model });
    } catch (e) {
      if (!current()) return;
      setSectionSummary("");
      SDRelatedSection.showError(host, doc, body, e, hasLocalAbstract, rerender);
      return;
    }
    if (!current()) return;
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
    const scoreTitle = data.by === "both"
      ? "rank fusion of meaning and citations (higher is closer)"
      : data.by === "citations" ? "citation evidence (links, co-citation, coupling)" : "cosine similarity";
    SDRender.results(doc, body, hits, handlers, notice, scoreTitle);
  },

  /** @param {SDSectionHost} host */
  url(host) {
    try {
      return host.settings().url;
    } catch (_e) {
      return "the bridge URL";
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
    const message = e instanceof Error ? e.message : String(e);
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
