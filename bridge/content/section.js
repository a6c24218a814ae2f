// @ts-check
// What the item-pane sections (Related papers, Citations) share: one answer of the bridge per
// item, asked in onAsyncRender and remembered for onRender, older answers dropped; and the
// bridge errors every section explains the same way.

/**
 * @typedef {object} SDSectionHost  what a section needs from the plugin
 * @property {string} pluginID
 * @property {string} rootURI
 * @property {() => SDSettings} settings
 * @property {() => ReturnType<typeof SDApi.create>} client
 * @property {() => string[]} tokenPaths  where the token file is looked for
 */
/**
 * @typedef {object} SDSectionView  where and for what a section draws
 * @property {HTMLElement} body
 * @property {Document} doc
 * @property {Zotero.Item} item
 * @property {(summary: string) => unknown} setSectionSummary
 */
/**
 * @template T
 * @typedef {object} SDOutcome  one answer of the bridge for an item, or why there is none
 * @property {number} number  the request's number (body.dataset.sdRequest once drawn)
 * @property {string} signature  the section's signature() when it was asked
 * @property {T} [data]
 * @property {unknown} [error]
 */
/**
 * @template T
 * @typedef {object} SDAnswerSpec  what one section asks and how it draws the answer
 * @property {string} loading  the placeholder's title ("Finding related papers…")
 * @property {(host: SDSectionHost, item: Zotero.Item) => Promise<T>} ask
 * @property {(host: SDSectionHost) => string} signature  what the answer depends on besides
 *   the item (a change means the last answer is stale)
 * @property {(host: SDSectionHost, view: SDSectionView, outcome: SDOutcome<T>, retry: () => unknown) => void} draw
 */

var SDSection = {
  /** Answers remembered per section (newest last). */
  LAST_SHOWN_MAX: 100,

  /**
   * The answers of one section. Zotero calls onAsyncRender only once per item in a row: after
   * A, then B (its section out of view, so only onRender ran), then A again, it skips A's
   * onAsyncRender although B's onRender took the body, so renderNow draws A's last answer
   * (and asks again when the signature changed).
   * @template T
   * @param {SDAnswerSpec<T>} spec
   */
  answers(spec) {
    /** @type {Map<string, SDOutcome<T>>} */
    const lastShown = new Map();
    /** @type {Map<string, number>} the newest request number per item key */
    const latest = new Map();
    let requests = 0;

    /**
     * @param {SDSectionHost} host
     * @param {SDSectionView} view
     * @param {SDOutcome<T>} outcome
     */
    const show = (host, view, outcome) => {
      view.body.dataset.sdItem = view.item.key;
      view.body.dataset.sdRequest = String(outcome.number);
      spec.draw(host, view, outcome, () => answers.render(host, view, { placeholder: true }));
    };

    /**
     * @param {string} key
     * @param {SDOutcome<T>} outcome
     */
    const remember = (key, outcome) => {
      lastShown.delete(key);
      lastShown.set(key, outcome);
      for (const old of lastShown.keys()) {
        if (lastShown.size <= SDSection.LAST_SHOWN_MAX) break;
        lastShown.delete(old);
      }
    };

    const answers = {
      lastShown,

      /**
       * onRender (synchronous): the last answer for this item, else a placeholder.
       * @param {SDSectionHost} host
       * @param {SDSectionView} view
       */
      renderNow(host, view) {
        const { body, doc, item, setSectionSummary } = view;
        body.dataset.sdItem = item ? item.key : ""; // which item the body shows (tests wait for it)
        const last = item ? lastShown.get(item.key) : undefined;
        if (!item || !last) {
          SDRender.state(doc, body, "loading", { title: spec.loading });
          setSectionSummary("");
          return;
        }
        show(host, view, last);
        if (last.signature !== spec.signature(host)) {
          answers.render(host, view).catch((e) => Zotero.logError(e));
        }
      },

      /**
       * Ask the bridge and show the answer; every failure becomes a state in the body. The
       * answer is remembered for renderNow, and drawn if the body still shows this item.
       * @param {SDSectionHost} host
       * @param {SDSectionView} view
       * @param {{ placeholder?: boolean }} [options]  show the loading state meanwhile
       *   (default: unless the body already shows an answer for this item)
       */
      async render(host, view, { placeholder } = {}) {
        const { body, doc, item } = view;
        const number = ++requests;
        latest.set(item.key, number);
        const shown = body.dataset.sdItem === item.key && lastShown.has(item.key);
        body.dataset.sdItem = item.key;
        if (placeholder ?? !shown) SDRender.state(doc, body, "loading", { title: spec.loading });
        const signature = spec.signature(host);
        /** @type {SDOutcome<T>} */
        let outcome;
        try {
          outcome = { number, signature, data: await spec.ask(host, item) };
        } catch (e) {
          outcome = { number, signature, error: e };
        }
        if (latest.get(item.key) !== number) return; // a newer request for it
        remember(item.key, outcome);
        if (body.dataset.sdItem === item.key) show(host, view, outcome);
      },
    };
    return answers;
  },

  /**
   * The bridge URL from the settings (for the daemon-down state).
   * @param {SDSectionHost} host
   */
  url(host) {
    try {
      return host.settings().url;
    } catch (_e) {
      return "the bridge URL";
    }
  },

  /**
   * Where the token file was looked for (for the no-token state).
   * @param {SDSectionHost} host
   * @returns {string[]}
   */
  tokenPaths(host) {
    try {
      return host.tokenPaths();
    } catch (_e) {
      return ["the daemon's data folder"];
    }
  },

  /**
   * A bridge error as the state that says what to do: daemon down, item not synced, no token,
   * token refused, anything else.
   * @param {SDSectionHost} host
   * @param {Document} doc
   * @param {HTMLElement} body
   * @param {unknown} e
   * @param {{ what: string, failed: string, retry: () => unknown }} about  what: "Related
   *   papers" (the start of "... come from the daemon"); failed: "related papers" ("Could
   *   not load ...")
   */
  showError(host, doc, body, e, { what, failed, retry }) {
    const err = e instanceof SDBridgeError ? e : null;
    const code = err ? err.code : "internal";
    const message = SDApi.message(e);
    const retryButton = { label: "Retry", onClick: retry };
    if (code === SDApi.DAEMON_DOWN) {
      SDRender.state(doc, body, "daemon-down", {
        title: "specter-desk is not running",
        text: `${what} come from the specter-desk daemon on this computer. Start it in a terminal, then click Retry:`,
        command: "specter-desk serve",
        detail: `No answer at ${SDSection.url(host)}.`,
        buttons: [retryButton],
      });
    } else if (code === "not_found") {
      SDRender.state(doc, body, "not-synced", {
        title: "Not in specter-desk yet",
        text: "This item has not been synced to specter-desk. Sync now, then retry in a moment.",
        detail: message,
        buttons: [
          { label: "Sync now", onClick: async () => { await host.client().sync(); retry(); } },
        ],
      });
    } else if (code === SDApi.NO_TOKEN) {
      SDRender.state(doc, body, "no-token", {
        title: "specter-desk's token was not found",
        text: "The plugin reads the daemon's token from its bridge-token file. Start specter-desk once (it writes the file), or paste the output of this command into Settings → specter-desk → Token:",
        command: "specter-desk bridge token",
        detail: `Looked in: ${SDSection.tokenPaths(host).join(", ")}`,
        buttons: [retryButton],
      });
    } else if (code === "unauthorized") {
      SDRender.state(doc, body, "unauthorized", {
        title: "specter-desk refused the token",
        text: "Leave the token empty in Settings → specter-desk to read it from the daemon's token file, or paste the output of:",
        command: "specter-desk bridge token",
        detail: message,
        buttons: [retryButton],
      });
    } else {
      SDRender.state(doc, body, "error", {
        title: `Could not load ${failed}`,
        text: message,
        detail: err ? `code: ${err.code}` : undefined,
        buttons: [retryButton],
      });
    }
  },
};
