// @ts-check
// Merging in Zotero: Zotero's own merge (mergeItems() from mergeItems.mjs on Zotero 9+,
// Zotero.Items.merge() on 7-8), so notes, attachments, tags, collections and relations move to
// the kept item; an item of another type first becomes the kept item's type (fields with no
// place in that type go to Extra); "Link as related" (dc:relation, as Zotero's Related box
// does); and Zotero 10's undo of merges.

/**
 * @typedef {object} SDUndoHistory  the part of Zotero 10's Zotero.UndoHistory the plugin uses
 *   (chrome/content/zotero/xpcom/undoHistory.js at tag 10.0.0)
 * @property {() => boolean} isEnabled
 * @property {() => { action: string, actionArgs: object | null } | null} getUndoAction
 * @property {() => Promise<boolean>} undo
 * @property {(action: string, args?: object) => void} stageAction
 */
/**
 * @typedef {object} SDMergePlan  a cluster in Zotero: the items, or why it cannot be merged
 * @property {Zotero.Item | null} master
 * @property {Zotero.Item[]} others
 * @property {string | null} problem  why it cannot be merged (null: it can)
 */
/**
 * @typedef {object} SDMergeResult
 * @property {boolean} merged
 * @property {string} message
 * @property {object | null} undo  Zotero 10's undo entry of this merge (its actionArgs object),
 *   null where Zotero has no undo
 * @property {string[]} converted  the items whose type was changed first, as "“title” (old → new)"
 */

var SDMerge = {
  MERGE_ACTION: "undo-action-merge-items",
  RELATED_ACTION: "undo-action-add-related",
  /** Zotero's default number of undo steps (pref undoHistory.steps). */
  DEFAULT_UNDO_STEPS: 100,
  /** Fields never copied into an empty field of the kept item. */
  NOT_FILLED: ["dateAdded", "dateModified", "accessDate", "extra"],

  /**
   * Zotero 10's undo history, or null (Zotero 7-9, or undo turned off).
   * @returns {SDUndoHistory | null}
   */
  undoHistory() {
    /** @type {SDUndoHistory | undefined} */
    const history = /** @type {any} */ (Zotero).UndoHistory;
    return history && typeof history.undo === "function" && history.isEnabled() ? history : null;
  },

  /** How many undo steps Zotero keeps (0 where there is no undo). */
  undoSteps() {
    if (!SDMerge.undoHistory()) return 0;
    const steps = Zotero.Prefs.get("undoHistory.steps");
    return Number.isInteger(steps) ? Number(steps) : SDMerge.DEFAULT_UNDO_STEPS;
  },

  /**
   * Which version of a work to keep, smallest first: a journal article over a conference paper
   * over a chapter or book, a report or preprint last (as the daemon's version groups rank them).
   * @param {string} itemType
   */
  versionRank(itemType) {
    /** @type {Record<string, number>} */
    const ranks = {
      journalArticle: 0, magazineArticle: 0, newspaperArticle: 0, conferencePaper: 1,
      bookSection: 2, book: 3, document: 4, thesis: 5, report: 6, preprint: 7,
    };
    return ranks[itemType] ?? 5;
  },

  /**
   * The Zotero items of a bridge cluster, or why Zotero cannot merge them.
   * @param {{ master: string, papers: { key: string, title: string }[] }} cluster
   * @returns {SDMergePlan}
   */
  plan(cluster) {
    /** @param {string} key */
    const paper = (key) => cluster.papers.find((p) => p.key === key) || { key, title: key };
    const master = SDActions.findItem(cluster.master, null, { trashed: true });
    const gone = SDMerge.problemWith(master, paper(cluster.master));
    if (gone || !master) return { master: null, others: [], problem: gone || "" };
    /** @type {Zotero.Item[]} */
    const others = [];
    for (const { key } of cluster.papers) {
      if (key === cluster.master) continue;
      const item = SDActions.findItem(key, master.libraryID, { trashed: true });
      const problem = SDMerge.problemWith(item, paper(key));
      if (problem || !item) return { master: null, others: [], problem: problem || "" };
      if (item.id !== master.id && !others.includes(item)) others.push(item);
    }
    return SDMerge.planItems(master, others);
  },

  /**
   * Items to merge into master, or why Zotero cannot merge them.
   * @param {Zotero.Item} master
   * @param {Zotero.Item[]} others
   * @returns {SDMergePlan}
   */
  planItems(master, others) {
    /** @param {string} problem */
    const refuse = (problem) => ({ master: null, others: [], problem });
    for (const item of [master, ...others]) {
      const problem = SDMerge.problemWith(item, { key: item.key, title: "" });
      if (problem) return refuse(problem);
      if (item.libraryID !== master.libraryID) {
        return refuse(`“${item.getField("title")}” is in another library than the item to keep: Zotero merges items of one library only.`);
      }
    }
    if (!others.length) return refuse("Nothing to merge: the cluster has one item.");
    if (!master.isEditable()) return refuse("The library is read-only: Zotero cannot change its items.");
    return { master, others, problem: null };
  },

  /**
   * Why an item of a cluster cannot be merged (null: it can).
   * @param {Zotero.Item | null} item
   * @param {{ key: string, title: string }} paper
   * @returns {string | null}
   */
  problemWith(item, paper) {
    if (!item) return `“${paper.title || paper.key}” (${paper.key}) is not in your Zotero library any more.`;
    if (item.deleted) return `“${item.getField("title")}” (${item.key}) is in the trash.`;
    if (!item.isRegularItem()) return `${item.key} is not a regular item (a note or an attachment).`;
    return null;
  },

  /**
   * The item's JSON as an item of another type: fields that map to the same base field move to
   * the new type's field (proceedingsTitle -> publicationTitle, as Zotero's "change item type"
   * does); Zotero's fromJSON() then stores the fields the new type has no place for in Extra.
   * @param {Zotero.Item} item
   * @param {string} itemType
   * @returns {Record<string, unknown>}
   */
  asType(item, itemType) {
    const newTypeID = Zotero.ItemTypes.getID(itemType);
    const json = /** @type {Record<string, unknown>} */ (item.toJSON());
    /** @type {Record<string, unknown>} */
    const out = {};
    for (const [field, value] of Object.entries(json)) {
      const fieldID = Zotero.ItemFields.getID(field);
      const baseID = fieldID ? Zotero.ItemFields.getBaseIDFromTypeAndField(item.itemTypeID, fieldID) : false;
      const target = baseID ? Zotero.ItemFields.getFieldIDFromTypeAndBase(newTypeID, baseID) : false;
      out[target ? Zotero.ItemFields.getName(target) : field] = value;
    }
    out.itemType = itemType;
    return out;
  },

  /**
   * Turn an item into another type in memory (saved by the merge, in its transaction).
   * @param {Zotero.Item} item
   * @param {string} itemType
   * @returns {string}  "“title” (Conference Paper → Journal Article)"
   */
  convert(item, itemType) {
    const from = item.itemType;
    item.fromJSON(SDMerge.asType(item, itemType));
    return `“${item.getField("title")}” (${SDMerge.typeLabel(from)} → ${SDMerge.typeLabel(itemType)})`;
  },

  /** @param {string} itemType */
  typeLabel(itemType) {
    try {
      return Zotero.ItemTypes.getLocalizedString(itemType) || itemType;
    } catch (_e) {
      return itemType;
    }
  },

  /**
   * Fill the kept item's empty fields from the others (the same publication recorded twice:
   * a DOI or abstract only one copy has is kept). In memory; the merge saves it.
   * @param {Zotero.Item} master
   * @param {Zotero.Item[]} others
   * @returns {string[]}  the fields filled
   */
  fillEmptyFields(master, others) {
    /** @type {string[]} */
    const filled = [];
    for (const other of others) {
      for (const field of other.getUsedFields(true)) {
        if (SDMerge.NOT_FILLED.includes(field) || master.getField(field)) continue;
        if (!Zotero.ItemFields.isValidForType(Zotero.ItemFields.getID(field), master.itemTypeID)) continue;
        master.setField(field, other.getField(field));
        filled.push(field);
      }
    }
    return filled;
  },

  /**
   * Zotero's merge: mergeItems() from mergeItems.mjs on Zotero 9+, Zotero.Items.merge() on
   * Zotero 7-8 (9 deprecated it).
   * @param {Zotero.Item} master
   * @param {Zotero.Item[]} others
   * @returns {Promise<unknown>}
   */
  async zoteroMerge(master, others) {
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

  /**
   * Merge a planned cluster: others of another type first become the master's type, empty
   * fields of the master are filled from duplicates (not from versions: their pages, volume
   * and venue belong to another publication), then Zotero's merge, whose transaction saves
   * all of it (so Zotero 10 undoes all of it in one step). A failure leaves the items as they
   * were, in the database and in memory.
   * @param {SDMergePlan} plan
   * @param {"duplicates" | "versions"} kind
   * @returns {Promise<SDMergeResult>}
   */
  async mergePlan(plan, kind) {
    const { master, others } = plan;
    if (plan.problem || !master) return { merged: false, message: plan.problem || "", undo: null, converted: [] };
    const history = SDMerge.undoHistory();
    const before = history ? history.getUndoAction()?.actionArgs : null;
    /** @type {string[]} */
    const converted = [];
    /** @type {Map<Zotero.Item, object>} */
    const originals = new Map();
    try {
      for (const other of others) {
        if (other.itemTypeID === master.itemTypeID) continue;
        originals.set(other, other.toJSON());
        converted.push(SDMerge.convert(other, master.itemType));
      }
      if (kind === "duplicates") SDMerge.fillEmptyFields(master, others);
      await SDMerge.zoteroMerge(master, others);
    } catch (e) {
      await SDMerge.forget([master, ...others], originals);
      return { merged: false, message: `Zotero could not merge them: ${SDActions.reason(e)}`, undo: null, converted: [] };
    }
    const after = history ? history.getUndoAction() : null;
    // getUndoAction() makes a new object each time; the entry's actionArgs object is its identity
    const undo = after && after.action === SDMerge.MERGE_ACTION && after.actionArgs !== before ? after.actionArgs : null;
    const message = `Merged ${others.length} item(s) into “${master.getField("title")}”.`
      + (converted.length ? ` Changed to ${SDMerge.typeLabel(master.itemType)} first: ${converted.join("; ")}.` : "");
    return { merged: true, message, undo, converted };
  },

  /**
   * After a failed merge (Zotero rolled its transaction back), make the items in memory what
   * the database holds again: a converted item first gets its old type back (Zotero's reload
   * cannot change a type), then everything is reloaded.
   * @param {Zotero.Item[]} items
   * @param {Map<Zotero.Item, object>} originals  the JSON of the items converted, before
   */
  async forget(items, originals) {
    for (const item of items) {
      try {
        const original = originals.get(item);
        if (original) item.fromJSON(original);
        await item.reload(/** @type {string[]} */ (/** @type {unknown} */ (null)), true);
      } catch (e) {
        Zotero.logError(/** @type {Error} */ (e));
      }
    }
  },

  /**
   * Merge a bridge cluster (see mergePlan).
   * @param {{ master: string, kind?: string, papers: { key: string, title: string }[] }} cluster
   * @returns {Promise<SDMergeResult>}
   */
  async mergeCluster(cluster) {
    return SDMerge.mergePlan(SDMerge.plan(cluster), cluster.kind === "versions" ? "versions" : "duplicates");
  },

  /**
   * Merge many clusters one after another, each through Zotero's merge in its own transaction;
   * a cluster that cannot be merged is skipped with its reason, nothing stops the batch.
   * @template {{ master: string, kind?: string, papers: { key: string, title: string }[] }} C
   * @param {C[]} clusters
   * @param {(done: number, total: number, cluster: C, result: SDMergeResult) => unknown} [onProgress]
   * @returns {Promise<{ cluster: C, result: SDMergeResult }[]>}
   */
  async mergeAll(clusters, onProgress = () => {}) {
    /** @type {{ cluster: C, result: SDMergeResult }[]} */
    const results = [];
    for (const cluster of clusters) {
      /** @type {SDMergeResult} */
      let result;
      try {
        result = await SDMerge.mergeCluster(cluster);
      } catch (e) {
        result = { merged: false, message: SDActions.reason(e), undo: null, converted: [] };
      }
      results.push({ cluster, result });
      onProgress(results.length, clusters.length, cluster, result);
      await new Promise((resolve) => setTimeout(resolve, 0)); // let the window draw the progress
    }
    return results;
  },

  /**
   * Undo merges with Zotero 10's undo, newest first. Zotero can only undo its newest step, so
   * this stops at the first merge that is not on top any more (something was done since).
   * @param {object[]} entries  the `undo` of each merge, in the order they were made
   * @returns {Promise<{ undone: number, message: string }>}
   */
  async undo(entries) {
    const history = SDMerge.undoHistory();
    if (!history) return { undone: 0, message: "This Zotero has no undo (Zotero 10 has): restore the merged items from the trash." };
    let undone = 0;
    for (const entry of [...entries].reverse()) {
      const top = history.getUndoAction();
      if (!top || top.actionArgs !== entry) {
        return { undone, message: `Undid ${undone} merge(s); Zotero's last step is not one of these merges any more (something was changed since), so the other ${entries.length - undone} stay merged: restore them from the trash.` };
      }
      if (!(await history.undo())) {
        return { undone, message: `Undid ${undone} merge(s); Zotero declined the next one (its items changed since) and cleared its undo history: restore the other ${entries.length - undone} from the trash.` };
      }
      undone += 1;
    }
    return { undone, message: `Undid ${undone} merge(s).` };
  },

  /**
   * Link items as related to each other (dc:relation both ways), as Zotero's Related box does:
   * one transaction, one undo step on Zotero 10.
   * @param {{ master: string, papers: { key: string, title: string }[] }} cluster
   * @returns {Promise<{ related: boolean, message: string }>}
   */
  async relate(cluster) {
    return SDMerge.relatePlan(SDMerge.plan(cluster));
  },

  /**
   * Link a plan's items as related (see relate).
   * @param {SDMergePlan} plan
   * @returns {Promise<{ related: boolean, message: string }>}
   */
  async relatePlan(plan) {
    if (plan.problem || !plan.master) return { related: false, message: plan.problem || "" };
    const items = [plan.master, ...plan.others];
    await Zotero.DB.executeTransaction(async () => {
      const history = SDMerge.undoHistory();
      if (history) history.stageAction(SDMerge.RELATED_ACTION);
      for (const item of items) {
        let changed = false;
        for (const other of items) if (other !== item && item.addRelatedItem(other)) changed = true;
        if (changed) await item.save({ skipDateModifiedUpdate: true });
      }
    });
    return { related: true, message: `Linked ${items.length} items as related (Related in Zotero's item pane).` };
  },
};
