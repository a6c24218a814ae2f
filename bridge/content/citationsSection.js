// @ts-check
// The "Citations" item-pane section: what the item cites and what cites it, from the store of
// `specter-desk citations sync` (GET /v1/papers/{key}/citations). Library papers are marked
// and open on click; the others can be added by DOI.

var SDCitationsSection = {
  PANE_ID: "specter-desk-citations",
  /** Rows drawn per list (the counts above each list stay whole). */
  SHOWN: 50,
  /** The last answer per item key (Zotero may skip onAsyncRender when an item comes back). */
  lastShown: /** @type {Map<string, { data?: CitationsResponse, error?: unknown }>} */ (new Map()),
  LAST_SHOWN_MAX: 100,

  /**
   * @param {SDSectionHost} host
   * @returns {_ZoteroTypes.ItemPaneManagerSection.ItemDetailsSectionOptions<"specter-desk-citations">}
   */
  options(host) {
    return {
      paneID: "specter-desk-citations",
      pluginID: host.pluginID,
      header: {
        l10nID: "specter-desk-citations-header",
        icon: host.rootURI + "content/icons/citations-16.svg",
      },
      sidenav: {
        l10nID: "specter-desk-citations-sidenav",
        icon: host.rootURI + "content/icons/citations-20.svg",
      },
      onItemChange: ({ item, setEnabled }) => {
        setEnabled(Boolean(item && item.isRegularItem()));
      },
      onRender: ({ body, doc, item, setSectionSummary }) => {
        const last = item ? SDCitationsSection.lastShown.get(item.key) : undefined;
        body.dataset.sdItem = item ? item.key : "";
        if (item && last) {
          SDCitationsSection.draw(host, { body, doc, item, setSectionSummary }, last);
        } else {
          SDRender.state(doc, body, "loading", { title: "Looking up citations…" });
          setSectionSummary("");
        }
      },
      onAsyncRender: async ({ body, doc, item, setSectionSummary }) => {
        if (!item || !item.isRegularItem()) return;
        await SDCitationsSection.render(host, { body, doc, item, setSectionSummary });
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

  /**
   * Ask the bridge for the item's lists and draw them (or the state that explains why not).
   * @param {SDSectionHost} host
   * @param {{ body: HTMLElement, doc: Document, item: Zotero.Item, setSectionSummary: (s: string) => unknown }} view
   */
  async render(host, view) {
    const { body, item } = view;
    body.dataset.sdItem = item.key;
    /** @type {{ data?: CitationsResponse, error?: unknown }} */
    let outcome;
    try {
      outcome = { data: await host.client().citations(item.key, { limit: 200 }) };
    } catch (e) {
      outcome = { error: e };
    }
    SDCitationsSection.remember(item.key, outcome);
    if (body.dataset.sdItem === item.key) SDCitationsSection.draw(host, view, outcome);
  },

  /**
   * @param {string} key
   * @param {{ data?: CitationsResponse, error?: unknown }} outcome
   */
  remember(key, outcome) {
    const last = SDCitationsSection.lastShown;
    last.delete(key);
    last.set(key, outcome);
    for (const old of last.keys()) {
      if (last.size <= SDCitationsSection.LAST_SHOWN_MAX) break;
      last.delete(old);
    }
  },

  /**
   * @param {SDSectionHost} host
   * @param {{ body: HTMLElement, doc: Document, item: Zotero.Item, setSectionSummary: (s: string) => unknown }} view
   * @param {{ data?: CitationsResponse, error?: unknown }} outcome
   */
  draw(host, view, outcome) {
    const { body, doc, item, setSectionSummary } = view;
    const retry = () => SDCitationsSection.render(host, view);
    if (outcome.error !== undefined || !outcome.data) {
      setSectionSummary("");
      SDCitationsSection.showError(doc, body, outcome.error, retry);
      return;
    }
    const data = outcome.data;
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
    const root = SDRender.el(doc, "div", { cls: "sd-citations", attrs: { "data-sd-state": "citations" } }, [
      SDCitationsSection.list(doc, "cites", `Cites ${counts.cites} (${counts.cites_in_library} in your library)`, data.cites, handlers),
      SDCitationsSection.list(doc, "cited-by", `Cited by ${counts.cited_by} (${counts.cited_by_in_library} in your library`
        + (counts.cited_by > counts.cited_by_listed ? `; ${counts.cited_by_listed} fetched)` : ")"), data.cited_by, handlers),
    ]);
    body.appendChild(root);
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
    const title = entry.title || entry.work;
    const titleNode = entry.in_library
      ? SDRender.button(doc, title, () => onOpen(entry), "sd-title sd-link")
      : SDRender.el(doc, "span", { cls: "sd-title", text: title });
    titleNode.setAttribute("title", entry.in_library ? "Show in library" : title);
    /** @type {HTMLElement | null} */
    let action = null;
    if (!entry.in_library) {
      if (entry.doi) {
        const add = SDRender.button(doc, "Add to library", async () => {
          add.setAttribute("disabled", "true");
          add.textContent = "Adding…";
          try {
            await onAdd(entry);
            add.textContent = "Added";
          } catch (e) {
            add.removeAttribute("disabled");
            add.textContent = "Add to library";
            throw e;
          }
        }, "sd-button sd-add");
        action = add;
      } else {
        action = SDRender.el(doc, "span", { cls: "sd-note", text: "no DOI to add it by" });
      }
    }
    const badge = entry.in_library
      ? SDRender.el(doc, "span", { cls: "sd-badge sd-in-library", text: "in your library" })
      : entry.pool === "candidates"
        ? SDRender.el(doc, "span", { cls: "sd-badge", text: "a candidate" })
        : null;
    return SDRender.el(doc, "li", {
      cls: `sd-hit sd-citation ${entry.in_library ? "sd-pool-library" : "sd-outside"}`,
      attrs: { "data-work": entry.work, "data-key": entry.key || "" },
    }, [
      SDRender.el(doc, "div", { cls: "sd-hit-main" }, [
        titleNode,
        SDRender.el(doc, "div", { cls: "sd-meta", text: SDRender.meta(entry) }),
        badge,
        action,
      ]),
      entry.cited_by_count !== null
        ? SDRender.el(doc, "span", { cls: "sd-score", text: String(entry.cited_by_count), attrs: { title: "times cited" } })
        : null,
    ]);
  },

  /**
   * @param {Document} doc
   * @param {HTMLElement} body
   * @param {unknown} e
   * @param {() => unknown} retry
   */
  showError(doc, body, e, retry) {
    const err = e instanceof SDBridgeError ? e : null;
    const message = e instanceof Error ? e.message : String(e);
    const retryButton = { label: "Retry", onClick: retry };
    if (err && err.code === SDApi.DAEMON_DOWN) {
      SDRender.state(doc, body, "daemon-down", {
        title: "specter-desk is not running",
        text: "Citations come from the specter-desk daemon on this computer. Start it in a terminal, then click Retry:",
        command: "specter-desk serve",
        detail: message,
        buttons: [retryButton],
      });
    } else if (err && err.code === "not_found") {
      SDRender.state(doc, body, "not-synced", {
        title: "Not in specter-desk yet",
        text: "This item has not been synced to specter-desk; sync, then fetch citations.",
        detail: message,
        buttons: [retryButton],
      });
    } else if (err && err.code === "unauthorized") {
      SDRender.state(doc, body, "unauthorized", {
        title: "specter-desk refused the token",
        text: "Leave the token empty in Settings → specter-desk to read it from the daemon's token file, or paste the output of:",
        command: "specter-desk bridge token",
        detail: message,
        buttons: [retryButton],
      });
    } else {
      SDRender.state(doc, body, "error", {
        title: "Could not load citations",
        text: message,
        detail: err ? `code: ${err.code}` : undefined,
        buttons: [retryButton],
      });
    }
  },
};
