// @ts-check
// Per-window UI: the Fluent file and the stylesheet; the Tools menu entries and the collection
// context menu's "Subscribe in Zotero" (MenuManager on Zotero 8+, added to each window's menus
// on Zotero 7); and the dialogs they open.

/**
 * @typedef {object} SDMenuCommands
 * @property {(w: Window) => unknown} openRecommended
 * @property {(w: Window) => unknown} openDuplicates
 * @property {(w: Window) => unknown} syncNow
 * @property {(w: Window) => unknown} subscribeCollection
 */

var SDWindows = {
  FTL: "specter-desk.ftl",
  DIALOG_URL: "chrome://specter-desk/content/dialog.xhtml",
  STYLESHEET_URL: "chrome://specter-desk/content/specter-desk.css",
  MENU_ID: "specter-desk-tools",
  COLLECTION_MENU_ID: "specter-desk-collection",
  /** The collection context menu's entry: element id and Fluent id. */
  SUBSCRIBE_ID: "specter-desk-menu-subscribe",
  /** @type {WeakMap<Window, () => void>} Zotero 7: each window's popupshowing listener */
  shownListeners: new WeakMap(),
  /** The Tools menu entries: [element id and Fluent id, command name]. */
  MENU_ENTRIES: /** @type {[string, keyof SDMenuCommands][]} */ ([
    ["specter-desk-menu-recommended", "openRecommended"],
    ["specter-desk-menu-duplicates", "openDuplicates"],
    ["specter-desk-menu-sync", "syncNow"],
  ]),
  ELEMENT_IDS: [
    "specter-desk-stylesheet",
    "specter-desk-ftl",
    "specter-desk-menu-separator",
    "specter-desk-menu-recommended",
    "specter-desk-menu-duplicates",
    "specter-desk-menu-sync",
    "specter-desk-menu-subscribe",
    "specter-desk-duplicate-notice",
  ],

  /** True where Zotero has MenuManager (8+): menus are registered once, not per window. */
  hasMenuManager() {
    /** @type {Partial<typeof Zotero>} */
    const zotero = Zotero;
    return Boolean(zotero.MenuManager && typeof zotero.MenuManager.registerMenu === "function");
  },

  /**
   * The MenuManager registration of the Tools menu entries (built apart so tsc checks it).
   * @param {string} pluginID
   * @param {SDMenuCommands} commands
   * @returns {_ZoteroTypes.MenuManager.MenuOptions<"main/menubar/tools">}
   */
  menuOptions(pluginID, commands) {
    return {
      menuID: SDWindows.MENU_ID,
      pluginID,
      target: "main/menubar/tools",
      menus: [
        { menuType: "separator" },
        ...SDWindows.MENU_ENTRIES.map(([l10nID, name]) => ({
          menuType: /** @type {const} */ ("menuitem"),
          l10nID,
          /** @param {Event} event */
          onCommand: (event) => SDWindows.run(() => commands[name](SDWindows.windowOf(event))),
        })),
      ],
    };
  },

  /**
   * The MenuManager registration of "Subscribe in Zotero" in the collection context menu,
   * shown only when a collection is selected (not a library, feed or saved search).
   * @param {string} pluginID
   * @param {SDMenuCommands} commands
   * @returns {_ZoteroTypes.MenuManager.MenuOptions<"main/library/collection">}
   */
  collectionMenuOptions(pluginID, commands) {
    return {
      menuID: SDWindows.COLLECTION_MENU_ID,
      pluginID,
      target: "main/library/collection",
      menus: [
        {
          menuType: "menuitem",
          l10nID: SDWindows.SUBSCRIBE_ID,
          onShowing: (_event, context) => context.setVisible(SDWindows.collectionSelected()),
          onCommand: (event) => SDWindows.run(() => commands.subscribeCollection(SDWindows.windowOf(event))),
        },
      ],
    };
  },

  /** Whether the Zotero pane has a collection selected. */
  collectionSelected() {
    return SDFeedSubscribe.selectedCollections(Zotero.getActiveZoteroPane()).length > 0;
  },

  /**
   * Register the Tools menu entries and the collection menu's entry with Zotero 8+'s
   * MenuManager. Returns the menu ids for unregisterMenu; none on Zotero 7 (add() then puts the
   * entries into each window's menus).
   * @param {string} pluginID
   * @param {SDMenuCommands} commands
   * @returns {string[]}
   */
  registerMenus(pluginID, commands) {
    if (!SDWindows.hasMenuManager()) return [];
    const ids = [
      Zotero.MenuManager.registerMenu(SDWindows.menuOptions(pluginID, commands)),
      Zotero.MenuManager.registerMenu(SDWindows.collectionMenuOptions(pluginID, commands)),
    ];
    return ids.filter(/** @returns {id is string} */ (id) => typeof id === "string" && id !== "");
  },

  /**
   * The window a menu event happened in.
   * @param {Event} event
   * @returns {Window}
   */
  windowOf(event) {
    const target = /** @type {any} */ (event && event.target);
    return (target && (target.ownerGlobal || target.ownerDocument?.defaultView)) || Zotero.getMainWindow();
  },

  /**
   * Run a menu command; its errors go to Zotero's error log, never out of the event handler.
   * @param {() => unknown} command
   */
  run(command) {
    try {
      Promise.resolve(command()).catch((e) => Zotero.logError(e));
    } catch (e) {
      Zotero.logError(/** @type {Error} */ (e));
    }
  },

  /**
   * Add the plugin's elements to a main window: the stylesheet and the Fluent file, and on
   * Zotero 7 (no MenuManager) the Tools menu entries.
   * @param {Window} window
   * @param {SDMenuCommands} commands
   */
  add(window, commands) {
    const doc = window.document;
    SDWindows.remove(window);
    const css = doc.createElementNS(SDRender.HTML_NS, "link");
    css.id = "specter-desk-stylesheet";
    css.setAttribute("rel", "stylesheet");
    css.setAttribute("href", SDWindows.STYLESHEET_URL);
    doc.documentElement.appendChild(css);

    const ftl = doc.createElementNS(SDRender.HTML_NS, "link");
    ftl.id = "specter-desk-ftl";
    ftl.setAttribute("rel", "localization");
    ftl.setAttribute("href", SDWindows.FTL);
    doc.documentElement.appendChild(ftl);

    if (SDWindows.hasMenuManager()) return;
    const popup = doc.getElementById("menu_ToolsPopup");
    if (!popup) return;
    const separator = doc.createXULElement("menuseparator");
    separator.id = "specter-desk-menu-separator";
    popup.appendChild(separator);
    for (const [id, name] of SDWindows.MENU_ENTRIES) {
      const item = doc.createXULElement("menuitem");
      item.id = id;
      item.setAttribute("data-l10n-id", id);
      item.addEventListener("command", () => SDWindows.run(() => commands[name](window)));
      popup.appendChild(item);
    }
    SDWindows.addCollectionEntry(window, commands);
  },

  /**
   * Zotero 7: "Subscribe in Zotero" at the end of the window's collection context menu, shown
   * only when a collection is selected.
   * @param {Window} window
   * @param {SDMenuCommands} commands
   */
  addCollectionEntry(window, commands) {
    const doc = window.document;
    const popup = doc.getElementById("zotero-collectionmenu");
    if (!popup) return;
    const item = doc.createXULElement("menuitem");
    item.id = SDWindows.SUBSCRIBE_ID;
    item.setAttribute("data-l10n-id", SDWindows.SUBSCRIBE_ID);
    item.addEventListener("command", () => SDWindows.run(() => commands.subscribeCollection(window)));
    popup.appendChild(item);
    const onShowing = () => {
      if (SDWindows.collectionSelected()) item.removeAttribute("hidden");
      else item.setAttribute("hidden", "true");
    };
    popup.addEventListener("popupshowing", onShowing);
    SDWindows.shownListeners.set(window, () => popup.removeEventListener("popupshowing", onShowing));
  },

  /**
   * Remove everything add() put into a window.
   * @param {Window} window
   */
  remove(window) {
    for (const id of SDWindows.ELEMENT_IDS) window.document.getElementById(id)?.remove();
    SDWindows.shownListeners.get(window)?.();
    SDWindows.shownListeners.delete(window);
  },

  /**
   * Open the plugin's dialog window; fill(dialogWindow, root) renders into it.
   * @param {Window} parent
   * @param {string} title
   * @param {(win: Window, root: HTMLElement) => unknown} fill
   * @returns {Window | null}
   */
  openDialog(parent, title, fill) {
    const io = {
      title,
      /** @param {Window} win */
      onLoad(win) {
        win.document.title = title;
        const root = /** @type {HTMLElement | null} */ (win.document.getElementById("sd-dialog-root"));
        if (root) Promise.resolve(fill(win, root)).catch((e) => Zotero.logError(e));
      },
    };
    return parent.openDialog(SDWindows.DIALOG_URL, "", "chrome,centerscreen,resizable,dialog=no", io);
  },
};
