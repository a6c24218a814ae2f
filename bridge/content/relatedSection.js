// @ts-check
// The "Related papers" item-pane section.

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
      onRender: (view) => SDRelatedSection.answers.renderNow(host, view),
      onAsyncRender: async ({ body, doc, item, setSectionSummary }) => {
        if (!item || !item.isRegularItem()) return;
        await SDRelatedSection.answers.render(host, { body, doc, item, setSectionSummary });
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

  /** The item's neighbours, asked and remembered per item. */
  answers: SDSection.answers({
    loading: "Finding related papers…",
    ask: (host, item) => {
      const { k, model } = host.settings();
      return host.client().related(item.key, { k, model });
    },
    signature: (host) => {
      try {
        const { url, k, model } = host.settings();
        return JSON.stringify([url, k, model]);
      } catch (_e) {
        return "";
      }
    },
    draw: (host, view, outcome, retry) => {
      SDRelatedSection.draw(host, view, outcome, retry);
    },
  }),

  /**
   * Show an answer of the bridge (or its error) for item in the body.
   * @param {SDSectionHost} host
   * @param {SDSectionView} view
   * @param {SDOutcome<RelatedResponse>} outcome
   * @param {() => unknown} retry  ask again (with the loading state meanwhile)
   */
  draw(host, { body, doc, item, setSectionSummary }, outcome, retry) {
    const hasLocalAbstract = Boolean(String(item.getField("abstractNote") || "").trim());
    const data = outcome.data;
    if (!data) {
      setSectionSummary("");
      SDRelatedSection.showError(host, doc, body, outcome.error, hasLocalAbstract, retry);
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
    const scoreTitle = data.by === "both"
      ? "rank fusion of meaning and citations (higher is closer)"
      : data.by === "citations" ? "citation evidence (links, co-citation, coupling)" : "cosine similarity";
    SDRender.results(doc, body, hits, handlers, notice, scoreTitle);
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
    if (!(e instanceof SDBridgeError && e.code === "not_embedded")) {
      SDSection.showError(host, doc, body, e, { what: "Related papers", failed: "related papers", retry });
    } else if (hasAbstract) {
      SDRender.state(doc, body, "not-embedded", { title: "Not embedded yet", text: "specter-desk has this item but is still computing its embedding. Related papers appear when it is done.", detail: SDApi.message(e), buttons: [{ label: "Retry", onClick: retry }] });
    } else {
      SDRender.state(doc, body, "no-abstract", { ...SDRelatedSection.NO_ABSTRACT, detail: SDApi.message(e), buttons: [{ label: "Retry", onClick: retry }] });
    }
  },
};
