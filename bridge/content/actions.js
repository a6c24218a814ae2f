// @ts-check
// What the plugin does inside Zotero: find and select an item by key, add a paper by DOI/arXiv
// id. (Merging is in merge.js.)

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
   * every other library. An item in the trash counts only with `trashed` (and only when no
   * library has it outside the trash).
   * @param {string} key
   * @param {number | null} [preferLibraryID]
   * @param {{ trashed?: boolean }} [options]
   * @returns {Zotero.Item | null}
   */
  findItem(key, preferLibraryID = null, { trashed = false } = {}) {
    const zkey = SDActions.zoteroKey(key);
    if (!zkey) return null;
    /** @type {number[]} */
    const libraries = [];
    if (preferLibraryID !== null && preferLibraryID !== undefined) libraries.push(preferLibraryID);
    libraries.push(Zotero.Libraries.userLibraryID);
    for (const library of Zotero.Libraries.getAll()) libraries.push(library.libraryID);
    /** @type {Zotero.Item | null} */
    let inTrash = null;
    for (const libraryID of new Set(libraries)) {
      const item = Zotero.Items.getByLibraryAndKey(libraryID, zkey);
      if (item && !item.deleted) return item;
      if (item && !inTrash) inTrash = item;
    }
    return trashed ? inTrash : null;
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

  /** @returns {SpecterDeskTypes.TranslateSearch} */
  translateSearch() {
    /** @type {SpecterDeskTypes.TranslateNamespace} */
    const Translate = Zotero.Translate;
    return new Translate.Search();
  },
};
