// Whether Zotero's main window shows a library in its items list: {ready, ...what is there}.
const win = Zotero.getMainWindow();
const pane = win?.ZoteroPane;
const state = {
  window: Boolean(win),
  loaded: win?.document.readyState ?? null,
  itemsView: Boolean(pane?.itemsView),
  collectionsView: Boolean(pane?.collectionsView),
  itemTreeView: Boolean(pane?.collectionsView?.itemTreeView),
};
state.ready = state.itemsView && state.itemTreeView;
return state;
