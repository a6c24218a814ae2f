// Zotero's item schema for the types the duplicates views meet (args.types): each type's id,
// label and fields in order, a field mapped to a base field as [field, base].
// bridge/test/fixtures/zotero-item-types.json is this, recorded from Zotero 10; the node fake
// builds its items from it.
const types = {};
for (const name of args.types) {
  const id = Zotero.ItemTypes.getID(name);
  const fields = Zotero.ItemFields.getItemTypeFields(id).map((fieldID) => {
    const field = Zotero.ItemFields.getName(fieldID);
    const base = Zotero.ItemFields.getBaseIDFromTypeAndField(id, fieldID);
    return base && base !== fieldID ? [field, Zotero.ItemFields.getName(base)] : field;
  });
  types[name] = { id, label: Zotero.ItemTypes.getLocalizedString(name), fields };
}
return { zotero: Zotero.version, types };
