// @ts-check
// The "Citations" item-pane section: what the item cites and what cites it, from the store of
// `specter-desk citations sync` (GET /v1/papers/{key}/citations). Library papers are marked
// and open on click; the others can be added by DOI.

var SDCitationsSection = {
  PANE_ID: "specter-desk-citations",
  /** Rows drawn per list (the counts above each list stay whole). */
  SHOWN: 50,

  /**
   * The registerSection options (built apart from register() so tsc checks every field).
   * @param {SDSectionHost} host
   * @returns {_ZoteroTypes.ItemPaneManagerSection.ItemDetailsSectionOptions<"specter-desk-citations">}
   */
  options(host) {
    return {
      paneID: "specter-desk-citations",
      pluginID: host.pluginID,
      header: {
        l10nID: "specter-desk-citations-header",
        icon: "chrome://specter-desk/content/icons/citations-16.svg",
      },
      sidenav: {
        l10nID: "specter-desk-citations-sidenav",
        icon: "chrome://specter-desk/content/icons/citations-20.svg",
      },
      onItemChange: ({ item, setEnabled }) => {
        setEnabled(Boolean(item && item.isRegularItem()));
      },
      onRender: (view) => SDCitationsSection.answers.renderNow(host, view),
      onAsyncRender: async ({ body, doc, item, setSectionSummary }) => {
        if (!item || !item.isRegularItem()) return;
        await SDCitationsSection.answers.render(host, { body, doc, item, setSectionSummary });
      },
    };
  },

  /**
   * @param {SDSectionHost} host
   * @returns {string | false}
   */
  register(host) {
    return Zotero.ItemPaneManager.registerSection(SDCitationsSection.options(host));
  },

  /** The item's Cites / Cited by lists, asked and remembered per item. */
  answers: SDSection.answers({
    loading: "Looking up citations…",
    ask: (host, item) => host.client().citations(item.key, { limit: 200 }), // works per list
    signature: (host) => SDSection.url(host),
    draw: (host, view, outcome, retry) => {
      SDCitationsSection.draw(host, view, outcome, retry);
    },
  }),

  /**
   * Show the item's lists (or the state that explains why there are none).
   * @param {SDSectionHost} host
   * @param {SDSectionView} view
   * @param {SDOutcome<CitationsResponse>} outcome
   * @param {() => unknown} retry  ask again (with the loading state meanwhile)
   */
  draw(host, { body, doc, item, setSectionSummary }, outcome, retry) {
    const data = outcome.data;
    if (!data) {
      setSectionSummary("");
      SDSection.showError(host, doc, body, outcome.error, { what: "Citations", failed: "citations", retry });
      return;
    }
    if (!data.work) {
      setSectionSummary("");
      SDRender.state(doc, body, "no-citations", {
        title: "No citation data for this item yet",
        text: "specter-desk fetches what papers cite and what cites them when you ask it to, "
          + "while online (it needs a DOI, arXiv id, PMID, or a title with year and author):",
        command: "specter-desk citations sync",
        detail: data.message || undefined,
        buttons: [{ label: "Retry", onClick: retry }],
      });
      return;
    }
    const counts = data.counts;
    setSectionSummary(`cites ${counts.cites} · cited by ${counts.cited_by}`);
    const handlers = {
      onOpen: (/** @type {CitationEntry} */ entry) => SDActions.selectItem(entry.key || "", item.libraryID),
      onAdd: (/** @type {CitationEntry} */ entry) => SDActions.addByIdentifier({ doi: entry.doi, arxiv_id: null, title: entry.title }),
    };
    SDRender.clear(body);
    body.appendChild(SDRender.el(doc, "div", { cls: "sd-citations", attrs: { "data-sd-state": "citations" } }, [
      SDCitationsSection.list(doc, "cites", `Cites ${counts.cites} (${counts.cites_in_library} in your library)`, data.cites, handlers),
      SDCitationsSection.list(doc, "cited-by", `Cited by ${counts.cited_by} (${counts.cited_by_in_library} in your library`
        + (counts.cited_by > counts.cited_by_listed ? `; ${counts.cited_by_listed} fetched)` : ")"), data.cited_by, handlers),
    ]));
  },

  /**
   * One list (Cites or Cited by) with a heading.
   * @param {Document} doc
   * @param {string} name  "cites" or "cited-by"
   * @param {string} heading
   * @param {CitationEntry[]} entries
   * @param {{ onOpen: (entry: CitationEntry) => unknown, onAdd: (entry: CitationEntry) => unknown }} handlers
   */
  list(doc, name, heading, entries, handlers) {
    const shown = entries.slice(0, SDCitationsSection.SHOWN);
    const more = entries.length - shown.length;
    return SDRender.el(doc, "div", { cls: `sd-citation-list sd-${name}`, attrs: { "data-sd-list": name } }, [
      SDRender.el(doc, "div", { cls: "sd-heading sd-citation-heading", text: heading }),
      entries.length
        ? SDRender.el(doc, "ol", { cls: "sd-results" }, shown.map((entry) => SDCitationsSection.row(doc, entry, handlers)))
        : SDRender.el(doc, "div", { cls: "sd-note", text: "none known" }),
      more > 0 ? SDRender.el(doc, "div", { cls: "sd-note", text: `and ${more} more (specter-desk citations show)` }) : null,
    ]);
  },

  /**
   * A work: in the library, a title that selects the item; otherwise its title, a badge and
   * "Add to library" when it has a DOI.
   * @param {Document} doc
   * @param {CitationEntry} entry
   * @param {{ onOpen: (entry: CitationEntry) => unknown, onAdd: (entry: CitationEntry) => unknown }} handlers
   */
  row(doc, entry, { onOpen, onAdd }) {
    const title = SDRender.titleNode(doc, entry.title || entry.work, entry.in_library ? () => onOpen(entry) : null);
    const action = entry.in_library ? null : entry.doi
      ? SDRender.addButton(doc, () => onAdd(entry))
      : SDRender.el(doc, "span", { cls: "sd-note", text: "no DOI to add it by" });
    const badge = entry.in_library
      ? SDRender.el(doc, "span", { cls: "sd-badge sd-in-library", text: "in your library" })
      : entry.pool === "candidates"
        ? SDRender.el(doc, "span", { cls: "sd-badge", text: "a candidate" })
        : null;
    return SDRender.el(doc, "li", {
      cls: `sd-hit sd-citation ${entry.in_library ? "sd-pool-library" : "sd-outside"}`,
      attrs: { "data-work": entry.work, "data-key": entry.key || "", "data-pool": entry.pool || "outside" },
    }, [
      SDRender.el(doc, "div", { cls: "sd-hit-main" }, [
        title,
        SDRender.el(doc, "div", { cls: "sd-meta", text: SDRender.meta(entry) }),
        badge,
        action,
      ]),
      entry.cited_by_count !== null
        ? SDRender.el(doc, "span", { cls: "sd-score", text: String(entry.cited_by_count), attrs: { title: "times cited" } })
        : null,
    ]);
  },
};
