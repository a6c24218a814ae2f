// Zotero's items as the fake Zotero gives them to the plugin: types and fields from
// ../fixtures/zotero-item-types.json (recorded from Zotero 10 and re-checked by
// tests/real_zotero), and the behaviour of Zotero 10.0.0's sources the plugin relies on
// (chrome/content/zotero/xpcom/...):
// - data/item.js: setField refuses a field the type does not have; fromJSON maps a base field
//   to the type's field and writes fields with no place into Extra ("Conference Name: ..."
//   lines, sorted, before the old Extra: Zotero.Utilities.Internal.combineExtraFields);
//   save() only inside a transaction; reload() cannot change a type back ("Cannot change type
//   in loadIn mode") and otherwise puts the saved values back;
// - db.js: executeTransaction does not nest (the inner one would wait for the outer);
// - undoHistory.js: one undo entry per transaction that staged an action; undo() pops the
//   newest, declines (and clears the history) when an item changed since;
// - mergeItems.mjs: refuses items of two libraries, moves tags and relations (dc:replaces),
//   trashes the others, one transaction with the undo action "undo-action-merge-items".
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const SCHEMA = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "zotero-item-types.json"), "utf8"));
const SKIP_JSON = new Set(["key", "version", "itemType", "note", "collections", "parentItem", "deleted", "inPublications", "extra",
  "creators", "tags", "relations", "dateAdded", "dateModified"]);

/** The item types and fields of the recorded schema, with ids. */
function makeSchema() {
  const fieldIDs = new Map();
  const fieldNames = new Map();
  const fieldID = (name) => {
    if (!fieldIDs.has(name)) {
      fieldIDs.set(name, fieldIDs.size + 1);
      fieldNames.set(fieldIDs.size, name);
    }
    return fieldIDs.get(name);
  };
  const types = new Map(); // name -> { id, label, fields: Set<name>, toBase: Map, fromBase: Map }
  const typeNames = new Map();
  for (const [name, type] of Object.entries(SCHEMA.types)) {
    const toBase = new Map();
    const fromBase = new Map();
    const fields = new Set();
    for (const entry of type.fields) {
      const [field, base] = Array.isArray(entry) ? entry : [entry, null];
      fields.add(field);
      fieldID(field);
      if (base) {
        fieldID(base);
        toBase.set(field, base);
        fromBase.set(base, field);
      }
    }
    types.set(name, { id: type.id, label: type.label, fields, toBase, fromBase });
    typeNames.set(type.id, name);
  }
  const isBase = (name) => [...types.values()].some((t) => t.fromBase.has(name));
  const ItemTypes = {
    getID: (name) => (typeof name === "number" ? (typeNames.has(name) ? name : false) : types.get(name)?.id || false),
    getName: (id) => typeNames.get(typeof id === "string" ? types.get(id)?.id : id) || false,
    getLocalizedString: (name) => types.get(typeof name === "number" ? typeNames.get(name) : name)?.label ?? "",
  };
  const ItemFields = {
    getID: (name) => (typeof name === "number" ? name : fieldIDs.get(name) || false),
    getName: (id) => (typeof id === "string" ? id : fieldNames.get(id) || false),
    isValidForType: (field, typeID) => types.get(typeNames.get(typeID))?.fields.has(ItemFields.getName(field)) || false,
    isBaseField: (field) => isBase(ItemFields.getName(field)),
    // a type's field -> its base field's id (a base field itself -> itself), else false
    getBaseIDFromTypeAndField: (typeID, field) => {
      const type = types.get(ItemTypes.getName(typeID));
      const name = ItemFields.getName(field);
      if (!type || !type.fields.has(name)) return false;
      if (type.toBase.has(name)) return fieldIDs.get(type.toBase.get(name));
      return isBase(name) ? fieldIDs.get(name) : false;
    },
    // a base field -> the type's field for it; a plain field -> itself if the type has it
    getFieldIDFromTypeAndBase: (typeID, field) => {
      const type = types.get(ItemTypes.getName(typeID));
      const name = ItemFields.getName(field);
      if (!type) throw new Error(`Invalid item type '${typeID}'`);
      if (!isBase(name)) return type.fields.has(name) ? fieldIDs.get(name) : false;
      if (type.fromBase.has(name)) return fieldIDs.get(type.fromBase.get(name));
      return type.fields.has(name) ? fieldIDs.get(name) : undefined;
    },
  };
  return { types, ItemTypes, ItemFields };
}

const camelToTitleCase = (s) => {
  const spaced = s.replace(/([a-z])([A-Z])/g, "$1 $2");
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
};

/**
 * The item world of one fake Zotero: items, transactions, undo history, merge.
 * @param {{ zotero: number, readOnlyLibraries?: number[], records: object, mergeError?: (master, others) => unknown }} o
 */
function makeWorld({ zotero, readOnlyLibraries = [], records, mergeError = null }) {
  const schema = makeSchema();
  const items = new Map();
  let transaction = null; // the pending undo entry of the running transaction, or {} when none is staged
  const undoStack = [];
  const redoStack = [];

  const DB = {
    inTransaction: () => transaction !== null,
    async executeTransaction(fn) {
      if (transaction !== null) throw new Error("fake Zotero: executeTransaction() inside a transaction would wait for it forever (Zotero.DB does not nest)");
      transaction = { action: null, actionArgs: null, changes: [] };
      const started = transaction;
      const touched = [];
      started.touched = touched;
      try {
        const result = await fn();
        if (zotero >= 10 && started.action && started.changes.length) {
          undoStack.push({ action: started.action, actionArgs: started.actionArgs, changes: started.changes });
          redoStack.length = 0;
        }
        return result;
      } catch (e) {
        for (const item of touched) item._rollback();
        throw e;
      } finally {
        transaction = null;
      }
    },
  };

  const UndoHistory = {
    isEnabled: () => true,
    canUndo: () => undoStack.length > 0,
    stageAction(action, actionArgs) {
      if (!transaction) throw new Error("Not in a transaction");
      transaction.action = action;
      transaction.actionArgs = actionArgs || null;
    },
    getUndoAction() {
      const entry = undoStack.at(-1);
      return entry ? { action: entry.action, actionArgs: entry.actionArgs } : null;
    },
    async undo() {
      const entry = undoStack.pop();
      if (!entry) return false;
      records.undos.push(entry.action);
      if (entry.changes.some((c) => JSON.stringify(c.item._snapshot()) !== JSON.stringify(c.after))) {
        undoStack.length = 0; // declined: an item changed since; Zotero clears its history
        redoStack.length = 0;
        return false;
      }
      for (const change of entry.changes) {
        change.item._restore(change.before);
        change.item._saved = change.item._snapshot();
      }
      redoStack.push(entry);
      return true;
    },
  };

  /**
   * Make `target` (a test's item object, see fakeZotero's makeItem) a live item of this world,
   * its state reset from its spec: tests keep comparing the same objects.
   */
  function makeItem(target) {
    const spec = target.spec || target;
    const { id, key, libraryID = 1, title = "A paper", abstract = "An abstract.", itemType = "journalArticle", fields = {}, regular = true, deleted = false, dateAdded = "2024-01-01 00:00:00", feedItem = false } = spec;
    if (!schema.types.has(itemType)) throw new Error(`fakeItems: no item type ${itemType} in the recorded schema`);
    let type = itemType;
    let values = {};
    let relations = {};
    let tags = [];
    let isDeleted = deleted;
    const item = target;
    for (const name of ["itemType", "itemTypeID", "deleted"]) delete item[name];
    Object.defineProperties(item, {
      itemType: { get: () => type, configurable: true, enumerable: true },
      itemTypeID: { get: () => schema.types.get(type).id, configurable: true, enumerable: true },
      deleted: { get: () => isDeleted, set: (value) => { isDeleted = Boolean(value); }, configurable: true, enumerable: true },
    });
    Object.assign(item, {
      id, key, libraryID, dateAdded, isFeedItem: feedItem,
      isRegularItem: () => regular,
      isEditable: () => !readOnlyLibraries.includes(item.libraryID),
      getField: (name) => values[name] ?? "",
      setField(name, value) {
        const typeInfo = schema.types.get(type);
        if (!typeInfo.fields.has(name)) throw new Error(`'${name}' is not a valid field for type '${type}'`);
        if (value === false || value === "" || value == null) delete values[name];
        else values[name] = String(value);
        return true;
      },
      getUsedFields: (asNames) => Object.keys(values).filter((f) => values[f]).map((f) => (asNames ? f : schema.ItemFields.getID(f))),
      setType(typeID) {
        const next = schema.ItemTypes.getName(typeID);
        if (!next) throw new Error(`Invalid item type ${typeID}`);
        const from = schema.types.get(type);
        const to = schema.types.get(next);
        const kept = {};
        for (const [field, value] of Object.entries(values)) {
          const base = from.toBase.get(field) || field;
          const target = to.fromBase.get(base) || (to.fields.has(field) ? field : null);
          if (target) kept[target] = value;
        }
        type = next;
        values = kept;
      },
      getRelations: () => JSON.parse(JSON.stringify(relations)),
      setRelations(next) { relations = JSON.parse(JSON.stringify(next || {})); },
      getTags: () => tags.map((tag) => ({ tag })),
      addTag(tag) { if (!tags.includes(tag)) tags.push(tag); },
      addRelatedItem(other) {
        const uri = uriOf(other);
        const list = relations["dc:relation"] || (relations["dc:relation"] = []);
        if (list.includes(uri)) return false;
        list.push(uri);
        return true;
      },
      toJSON() {
        const json = { key: item.key, version: 0, itemType: type, ...values, creators: [], tags: tags.map((tag) => ({ tag })), collections: [], relations: item.getRelations(), dateAdded: item.dateAdded, dateModified: item.dateAdded };
        if (isDeleted) json.deleted = true;
        return json;
      },
      fromJSON(json) {
        item.setType(schema.ItemTypes.getID(json.itemType));
        const typeInfo = schema.types.get(type);
        const extraFields = new Map();
        const set = {};
        for (const [field, value] of Object.entries(json)) {
          if (SKIP_JSON.has(field)) continue;
          const mapped = schema.ItemFields.getID(field) ? schema.ItemFields.getFieldIDFromTypeAndBase(typeInfo.id, field) : false;
          const name = mapped ? schema.ItemFields.getName(mapped) : field;
          if (typeInfo.fields.has(name)) set[name] = String(value);
          else if (typeof value === "string") extraFields.set(name, value);
        }
        values = set;
        const lines = [...extraFields].map(([field, value]) => `${camelToTitleCase(field)}: ${value}`).sort();
        const extra = [lines.join("\n"), json.extra || ""].filter(Boolean).join("\n");
        if (extra) values.extra = extra;
        relations = JSON.parse(JSON.stringify(json.relations || {}));
        tags = (json.tags || []).map((t) => t.tag);
        isDeleted = Boolean(json.deleted);
      },
      _snapshot: () => ({ type, values: { ...values }, relations: item.getRelations(), tags: [...tags], deleted: isDeleted }),
      _restore(snapshot) {
        type = snapshot.type;
        values = { ...snapshot.values };
        relations = JSON.parse(JSON.stringify(snapshot.relations));
        tags = [...snapshot.tags];
        isDeleted = snapshot.deleted;
      },
      _saved: null,
      async save(options = {}) {
        if (!transaction) throw new Error("fake Zotero: item.save() outside a transaction (use saveTx or Zotero.DB.executeTransaction)");
        const before = item._saved;
        const after = item._snapshot();
        records.saves.push({ key: item.key, options, after });
        transaction.touched.push({ _rollback: () => { item._saved = before; } });
        if (JSON.stringify(before) !== JSON.stringify(after)) {
          const change = transaction.changes.find((c) => c.item === item);
          if (change) change.after = after;
          else transaction.changes.push({ item, before, after });
        }
        item._saved = after;
        return true;
      },
      saveTx: (options) => DB.executeTransaction(() => item.save(options)),
      async reload(_dataTypes, _reloadUnchanged) {
        if (item._saved.type !== type) throw new Error("Cannot change type in loadIn mode");
        item._restore(item._saved);
      },
    });
    item._restore({ type, values: { title, ...(abstract ? { abstractNote: abstract } : {}), ...fields }, relations: {}, tags: [], deleted });
    item._saved = item._snapshot();
    items.set(id, item);
    return item;
  }

  const uriOf = (item) => `http://zotero.org/users/local/fake/items/${item.key}`;

  /** mergeItems() of mergeItems.mjs (Zotero.Items.merge on 7-8): the parts the plugin relies on. */
  async function merge(master, others, via) {
    await DB.executeTransaction(async () => {
      if (zotero >= 10) UndoHistory.stageAction("undo-action-merge-items", { count: others.length + 1 });
      if (mergeError) await mergeError(master, others);
      for (const other of others) {
        if (other.libraryID !== master.libraryID) throw new Error("Items being merged must be in the same library");
        const replaces = master.getRelations();
        (replaces["dc:replaces"] || (replaces["dc:replaces"] = [])).push(uriOf(other));
        master.setRelations(replaces);
        for (const { tag } of other.getTags()) master.addTag(tag);
        other.deleted = true;
      }
      records.merges.push({ master, others, via, types: others.map((o) => o.itemType), json: others.map((o) => o.toJSON()) });
      for (const item of [master, ...others]) await item.save();
    });
  }

  return { schema, items, DB, UndoHistory, makeItem, merge, uriOf, undoStack };
}

module.exports = { makeWorld, makeSchema, SCHEMA };
