// @ts-check
// The plugin's lifecycle: registers the preference pane, the item-pane section, the
// Notifier observer (sync on change, check on add) and the menus (Tools, collection), and unregisters
// all of them on shutdown.

var SDPlugin = {
  PREF_PANE_ID: "specter-desk-prefpane",
  ICON_URL: "chrome://specter-desk/content/icons/specter-desk.svg",
  pluginID: "",
  version: "",
  rootURI: "",
  /** @type {(() => unknown)[]} undo functions, run in reverse on shutdown */
  disposers: [],
  /** @type {Set<Window>} */
  windows: new Set(),
  /** @type {string | null} token read from the daemon's token file */
  fileToken: null,
  /** @type {ReturnType<typeof SDCheckOnAdd.create> | null} */
  checker: null,

  /** @returns {SDSettings} */
  settings() {
    return SDConfig.read(Zotero.Prefs);
  },

  /**
   * The bearer token: the preference when set, else the daemon's token file (cached).
   * @param {boolean} refresh  re-read the file (after a 401)
   */
  async token(refresh) {
    const typed = SDPlugin.settings().token;
    if (typed) return typed;
    if (refresh || SDPlugin.fileToken === null) SDPlugin.fileToken = await SDTokenFile.read();
    return SDPlugin.fileToken;
  },

  tokenPaths() {
    return SDTokenFile.where();
  },

  client() {
    return SDApi.create({ url: SDPlugin.settings().url, getToken: SDPlugin.token });
  },

  /**
   * @param {{ id: string, version: string, rootURI: string }} data
   */
  async startup({ id, version, rootURI }) {
    SDPlugin.pluginID = id;
    SDPlugin.version = version;
    SDPlugin.rootURI = rootURI;
    SDPlugin.disposers = [];
    SDPlugin.fileToken = null;

    const paneID = await Zotero.PreferencePanes.register({
      pluginID: id,
      id: SDPlugin.PREF_PANE_ID,
      src: rootURI + "prefs.xhtml",
      scripts: [rootURI + "content/prefsPane.js"],
      label: "specter-desk",
      image: SDPlugin.ICON_URL,
    });
    SDPlugin.disposers.push(() => Zotero.PreferencePanes.unregister(paneID));

    const sectionID = SDRelatedSection.register(SDPlugin);
    if (sectionID) SDPlugin.disposers.push(() => Zotero.ItemPaneManager.unregisterSection(sectionID));
    const citationsID = SDCitationsSection.register(SDPlugin);
    if (citationsID) SDPlugin.disposers.push(() => Zotero.ItemPaneManager.unregisterSection(citationsID));

    const log = (/** @type {string} */ message) => Zotero.debug(`specter-desk: ${message}`);
    const syncer = SDSyncOnChange.create({
      enabled: () => SDPlugin.settings().syncOnChange,
      sync: () => SDPlugin.client().sync(),
      delayMs: SDPlugin.settings().syncDelayMs,
      log,
    });
    const checker = SDCheckOnAdd.create({
      enabled: () => SDPlugin.settings().checkOnAdd,
      client: () => SDPlugin.client(),
      window: () => Zotero.getMainWindow(),
      log,
    });
    SDPlugin.checker = checker;
    SDPlugin.disposers.push(() => {
      syncer.stop();
      checker.stop();
    });
    const observerID = SDPlugin.observe([syncer, checker]);
    SDPlugin.disposers.push(() => Zotero.Notifier.unregisterObserver(observerID));

    const menuIDs = SDWindows.registerMenus(id, SDPlugin.commands);
    if (menuIDs.length) SDPlugin.disposers.push(() => menuIDs.forEach((m) => Zotero.MenuManager.unregisterMenu(m)));

    /** @type {any} */ (Zotero).SpecterDesk = SDPlugin;
    SDPlugin.disposers.push(() => {
      delete (/** @type {any} */ (Zotero).SpecterDesk);
    });

    for (const window of Zotero.getMainWindows()) SDPlugin.onMainWindowLoad(window);
  },

  /**
   * One Notifier observer for items, handing each event to every listener (one's error never
   * keeps it from the others).
   * @param {{ notify: _ZoteroTypes.Notifier.Notify }[]} listeners
   * @returns {string}  the observer id
   */
  observe(listeners) {
    return Zotero.Notifier.registerObserver({
      /** @type {_ZoteroTypes.Notifier.Notify} */
      notify(event, type, ids, extraData) {
        for (const listener of listeners) {
          try {
            listener.notify(event, type, ids, extraData);
          } catch (e) {
            Zotero.logError(/** @type {Error} */ (e));
          }
        }
      },
    }, ["item"], "specter-desk");
  },

  /** What the Tools menu entries do (each gets the window the menu was used in). */
  commands: /** @type {SDMenuCommands} */ ({
    openRecommended: (w) => SDWindows.openDialog(w, "Recommended this week", (win, root) =>
      SDViews.recommendations(SDPlugin, win.document, root, { since: "week" })),
    openDuplicates: (w) => SDWindows.openDialog(w, "Duplicates", (win, root) =>
      SDDuplicatesView.render(SDPlugin, win.document, root, {
        confirm: (title, text) =>
          Services.prompt.confirm(/** @type {mozIDOMWindowProxy} */ (/** @type {unknown} */ (win)), title, text),
      })),
    syncNow: () => SDPlugin.client().sync(),
    subscribeCollection: (w) => SDFeedSubscribe.run(SDPlugin.client(), w),
  }),

  /** @param {Window} window */
  onMainWindowLoad(window) {
    SDWindows.add(window, SDPlugin.commands);
    SDPlugin.windows.add(window);
  },

  /** @param {Window} window */
  onMainWindowUnload(window) {
    SDWindows.remove(window); // the duplicate notice too (SDWindows.ELEMENT_IDS)
    SDPlugin.windows.delete(window);
  },

  shutdown() {
    for (const window of [...SDPlugin.windows]) SDPlugin.onMainWindowUnload(window);
    for (const undo of SDPlugin.disposers.reverse()) {
      try {
        undo();
      } catch (e) {
        Zotero.logError(/** @type {Error} */ (e));
      }
    }
    SDPlugin.disposers = [];
  },

  /** For the preferences pane: check the bridge and the token, as one line of text. */
  async testConnection() {
    const client = SDPlugin.client();
    try {
      const health = await client.health();
      await client.recommendations({ since: "day", n: 1 });
      return `Connected to specter-desk ${health.version} at ${client.base}; the token works.`;
    } catch (e) {
      return SDApi.message(e);
    }
  },
};
