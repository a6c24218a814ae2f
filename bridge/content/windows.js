// @ts-check
// Per-window UI: the Fluent file and the stylesheet; the Tools menu entries (MenuManager on
// Zotero 8+, added to each window's Tools menu on Zotero 7); and the dialogs they open.

/**
 * @typedef {object} SDMenuCommands
 * @property {(w: Window) => unknown} openRecommended
 * @property {(w: Window) => unknown} openDuplicates
 * @property {(w: Window) => unknown} syncNow
 */

var SDWindows = {
  FTL: "specter-desk.ftl",
  DIALOG_URL: "chrome://specter-desk/content/dialog.xhtml",
  STYLESHEET_URL: "chrome://specter-desk/content/specter-desk.css",
  MENU_ID: "specter-desk-tools",
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
   * Register the Tools menu entries with Zotero 8+'s MenuManager. Returns the menu id for
   * unregisterMenu, or null on Zotero 7 (add() then puts them into each window's Tools menu).
   * @param {string} pluginID
   * @param {SDMenuCommands} commands
   * @returns {string | null}
   */
  registerMenus(pluginID, commands) {
    if (!SDWindows.hasMenuManager()) return null;
    return Zotero.MenuManager.registerMenu(SDWindows.menuOptions(pluginID, commands)) || null;
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
  },

  /**
   * Remove everything add() put into a window.
   * @param {Window} window
   */
  remove(window) {
    for (const id of SDWindows.ELEMENT_IDS) window.document.getElementById(id)?.remove();
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
