// @ts-check
// Per-window UI: the Fluent file, the stylesheet and the Tools menu entries; and the dialogs
// those entries open.

var SDWindows = {
  FTL: "specter-desk.ftl",
  DIALOG_URL: "chrome://specter-desk/content/dialog.xhtml",
  STYLESHEET_URL: "chrome://specter-desk/content/specter-desk.css",
  ELEMENT_IDS: [
    "specter-desk-stylesheet",
    "specter-desk-ftl",
    "specter-desk-menu-separator",
    "specter-desk-menu-recommended",
    "specter-desk-menu-duplicates",
    "specter-desk-menu-sync",
  ],

  /**
   * Add the plugin's elements to a main window.
   * @param {Window} window
   * @param {{ openRecommended: (w: Window) => void, openDuplicates: (w: Window) => void, syncNow: () => unknown }} commands
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

    const popup = doc.getElementById("menu_ToolsPopup");
    if (!popup) return;
    const separator = doc.createXULElement("menuseparator");
    separator.id = "specter-desk-menu-separator";
    popup.appendChild(separator);
    /** @type {[string, string, () => unknown][]} */
    const items = [
      ["specter-desk-menu-recommended", "specter-desk-menu-recommended", () => commands.openRecommended(window)],
      ["specter-desk-menu-duplicates", "specter-desk-menu-duplicates", () => commands.openDuplicates(window)],
      ["specter-desk-menu-sync", "specter-desk-menu-sync", () => commands.syncNow()],
    ];
    for (const [id, l10nID, run] of items) {
      const item = doc.createXULElement("menuitem");
      item.id = id;
      item.setAttribute("data-l10n-id", l10nID);
      item.addEventListener("command", () => {
        try {
          Promise.resolve(run()).catch((e) => Zotero.logError(e));
        } catch (e) {
          Zotero.logError(/** @type {Error} */ (e));
        }
      });
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
