// @ts-check
// What the plugin does inside Zotero: select an item by key, add a paper by DOI/arXiv id,
// merge duplicates with Zotero's own merge.

var SDActions = {
  /**
   * The Zotero item key inside a bridge key: the key itself ("ABCD2345") or the part after
   * the last ":" or "/" ("user:1/ABCD2345"); null when there is none.
   * @param {string} key
   * @returns {string | null}
   */
  zoteroKey(key) {
    const match = /(?:^|[:/])([23456789A-Z]{8})$/.exec(String(key || ""));
    return match ? match[1] : null;
  },

  /**
   * Find a library item by bridge key, in preferLibraryID first, then the user library, then
   * every other library.
   * @param {string} key
   * @param {number | null} [preferLibraryID]
   * @returns {Zotero.Item | null}
   */
  findItem(key, preferLibraryID = null) {
    const zkey = SDActions.zoteroKey(key);
    if (!zkey) return null;
    /** @type {number[]} */
    const libraries = [];
    if (preferLibraryID !== null && preferLibraryID !== undefined) libraries.push(preferLibraryID);
    libraries.push(Zotero.Libraries.userLibraryID);
    for (const library of Zotero.Libraries.getAll()) libraries.push(library.libraryID);
    for (const libraryID of new Set(libraries)) {
      const item = Zotero.Items.getByLibraryAndKey(libraryID, zkey);
      if (item && !item.deleted) return item;
    }
    return null;
  },

  /**
   * Select the library item behind a bridge key in the active Zotero pane.
   * @param {string} key
   * @param {number | null} [preferLibraryID]
   * @returns {Promise<void>}
   */
  async selectItem(key, preferLibraryID = null) {
    const item = SDActions.findItem(key, preferLibraryID);
    if (!item) throw new Error(`This paper (${key}) is not in your Zotero libraries any more.`);
    const pane = Zotero.getActiveZoteroPane();
    if (!pane) throw new Error("Open the main Zotero window to show the item.");
    await pane.selectItem(item.id);
  },

  /**
   * The identifier Zotero's lookup can resolve for a hit: its DOI, else its arXiv id.
   * @param {{ doi: string | null, arxiv_id: string | null }} hit
   * @returns {SpecterDeskTypes.Identifier | null}
   */
  identifier(hit) {
    if (hit.doi) return { DOI: hit.doi };
    if (hit.arxiv_id) return { arXiv: hit.arxiv_id };
    return null;
  },

  /**
   * Add a candidate to the library selected in Zotero, through Zotero's identifier lookup
   * (the same translators as "Add Item by Identifier").
   * @param {{ doi: string | null, arxiv_id: string | null, title: string }} hit
   * @returns {Promise<Zotero.Item[]>}
   */
  async addByIdentifier(hit) {
    const identifier = SDActions.identifier(hit);
    if (!identifier) throw new Error("This paper has no DOI or arXiv id to add it by.");
    const libraryID = SDActions.selectedLibraryID(Zotero.getActiveZoteroPane());
    const translate = SDActions.translateSearch();
    translate.setIdentifier(identifier);
    const translators = await translate.getTranslators();
    if (!translators.length) throw new Error("Zotero has no translator for this identifier.");
    translate.setTranslator(translators);
    const what = Object.values(identifier)[0];
    /** @type {Zotero.Item[]} */
    let items;
    try {
      items = await translate.translate({ libraryID, saveAttachments: false });
    } catch (e) {
      throw new Error(`Zotero could not look up ${what} (is this computer online?): ${SDActions.reason(e)}`);
    }
    if (!items || !items.length) throw new Error(`Zotero found nothing for ${what}.`);
    return items;
  },

  /**
   * The library to add items to: the one selected in the Zotero pane, else My Library.
   * Zotero 10 lets several libraries be selected and removed getSelectedLibraryID() (it now
   * throws); Zotero 7-9 have only that one.
   * @param {_ZoteroTypes.ZoteroPane | null | undefined} pane
   * @returns {number}
   */
  selectedLibraryID(pane) {
    if (!pane) return Zotero.Libraries.userLibraryID;
    /** @type {{ getSelectedLibraryIDs?: () => number[] }} */
    const zotero10 = /** @type {any} */ (pane);
    if (typeof zotero10.getSelectedLibraryIDs === "function") {
      return zotero10.getSelectedLibraryIDs()[0] ?? Zotero.Libraries.userLibraryID;
    }
    return pane.getSelectedLibraryID();
  },

  /**
   * Why something failed, in one line (Zotero's translation errors can be strings or objects).
   * @param {unknown} e
   */
  reason(e) {
    const text = SDApi.message(e);
    return text.split("\n")[0].trim() || "no reason given";
  },

  /**
   * Zotero's merge: mergeItems() from mergeItems.mjs on Zotero 9+, Zotero.Items.merge() on
   * Zotero 7-8 (9 deprecated it).
   * @param {Zotero.Item} master
   * @param {Zotero.Item[]} others
   * @returns {Promise<unknown>}
   */
  async merge(master, others) {
    /** @type {((item: Zotero.Item, others: Zotero.Item[]) => Promise<unknown>) | null} */
    let mergeItems = null;
    try {
      ({ mergeItems } = ChromeUtils.importESModule("chrome://zotero/content/mergeItems.mjs"));
    } catch (_e) {
      mergeItems = null; // Zotero 7-8: no such module
    }
    if (typeof mergeItems === "function") return mergeItems(master, others);
    return Zotero.Items.merge(master, others);
  },

  /** @returns {SpecterDeskTypes.TranslateSearch} */
  translateSearch() {
    /** @type {SpecterDeskTypes.TranslateNamespace} */
    const Translate = Zotero.Translate;
    return new Translate.Search();
  },

  /**
   * Merge a bridge duplicate cluster in Zotero, keeping the suggested master, after confirm()
   * says yes. Returns what happened, never throws for expected problems.
   * @param {DuplicateCluster} cluster
   * @param {(title: string, text: string) => boolean} confirm
   * @returns {Promise<{ merged: boolean, message: string }>}
   */
  async mergeCluster(cluster, confirm) {
    const master = SDActions.findItem(cluster.master);
    if (!master) return { merged: false, message: `The suggested master (${cluster.master}) is not in your Zotero library.` };
    /** @type {Zotero.Item[]} */
    const others = [];
    for (const paper of cluster.papers) {
      if (paper.key === cluster.master) continue;
      const item = SDActions.findItem(paper.key, master.libraryID);
      if (!item) return { merged: false, message: `"${paper.title}" (${paper.key}) is not in your Zotero library any more.` };
      if (item.libraryID !== master.libraryID) return { merged: false, message: "Zotero can only merge items of the same library." };
      if (item.itemTypeID !== master.itemTypeID) {
        return { merged: false, message: `Zotero can only merge items of the same type: "${paper.title}" is a ${item.itemType}, the master is a ${master.itemType}. Change one type first.` };
      }
      if (item.id !== master.id) others.push(item);
    }
    if (!others.length) return { merged: false, message: "Nothing to merge: the cluster has one item." };
    const reasons = [...new Set(cluster.pairs.flatMap((p) => p.reasons))].join("; ");
    const text = `Merge ${others.length} item(s) into "${master.getField("title")}"?\n\n`
      + `Kept: ${master.getField("title")} (${master.key})\n`
      + others.map((o) => `Merged into it: ${o.getField("title")} (${o.key})`).join("\n")
      + (reasons ? `\n\nWhy: ${reasons}` : "")
      + "\n\nZotero moves the others to the trash and keeps their tags, notes, attachments and relations.";
    if (!confirm("Merge duplicates", text)) return { merged: false, message: "Not merged." };
    await SDActions.merge(master, others);
    return { merged: true, message: `Merged ${others.length} item(s) into "${master.getField("title")}".` };
  },
};
