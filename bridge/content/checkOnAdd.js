// @ts-check
// Check on add: when items are added in Zotero (Notifier "add"), ask the daemon whether they
// are already in the library (POST /v1/duplicates/check) and say so in a notice at the top of the
// library tab, in the style of Zotero's own banners: "… is already in your library as …" with Show,
// Merge and Not a duplicate. The notice never takes the focus and never blocks: it is only
// added to the window, and it stays until it is closed.

/**
 * @typedef {object} SDNoticeMatch  an added item that is already in the library
 * @property {Zotero.Item} added
 * @property {Zotero.Item} existing
 * @property {DuplicateMatch} match
 */

var SDCheckOnAdd = {
  NOTICE_ID: "specter-desk-duplicate-notice",
  /** Items per POST /v1/duplicates/check (the bridge takes up to 200 and 1 MiB). */
  CHUNK: 50,
  /** Rows the notice shows; more matches are counted in a last row. */
  MAX_ROWS: 5,
  /** Fields of an item's JSON the check does not need. */
  DROPPED: ["relations", "collections", "tags", "dateModified", "version", "deleted", "inPublications"],
  /** How long "Not a duplicate" waits for the daemon to sync an item it does not know yet. */
  SYNC_WAIT_MS: 120000,

  /**
   * A Notifier listener that checks added items, a moment after the last add of a burst.
   * @param {object} options
   * @param {() => boolean} options.enabled  read on every add (the pref)
   * @param {() => ReturnType<typeof SDApi.create>} options.client
   * @param {() => Window | null} options.window  where to show the notice
   * @param {number} [options.delayMs]
   * @param {(message: string) => void} [options.log]
   */
  create({ enabled, client, window, delayMs = 400, log = () => {} }) {
    /** @type {Set<number>} */
    const pending = new Set();
    /** @type {ReturnType<typeof setTimeout> | null} */
    let timer = null;
    let stopped = false;
    /** @type {Promise<void>} */
    let running = Promise.resolve();

    async function check() {
      timer = null;
      const ids = [...pending];
      pending.clear();
      const items = Zotero.Items.get(ids).filter((item) => item.isRegularItem() && !item.deleted && !item.isFeedItem);
      for (let start = 0; start < items.length && !stopped; start += SDCheckOnAdd.CHUNK) {
        const chunk = items.slice(start, start + SDCheckOnAdd.CHUNK);
        /** @type {{ matches: DuplicateMatch[] }} */
        let answer;
        try {
          answer = await client().checkDuplicates(chunk.map(SDCheckOnAdd.itemJSON));
        } catch (e) {
          log(`duplicate check failed: ${SDApi.message(e)}`);
          return;
        }
        /** @type {SDNoticeMatch[]} */
        const found = [];
        for (const match of answer.matches || []) {
          const added = chunk[match.index];
          const existing = added ? SDActions.findItem(match.key, added.libraryID) : null;
          if (added && existing && existing.id !== added.id && !added.deleted) found.push({ added, existing, match });
        }
        const win = window();
        if (found.length && win && !stopped) SDCheckOnAdd.show(win, found, client);
      }
    }

    return {
      /** @type {_ZoteroTypes.Notifier.Notify} */
      notify(event, type, ids, extraData) {
        // items Zotero's own sync writes from the server carry skipAutoSync: they were added
        // elsewhere, where this check ran already
        if (event !== "add" || type !== "item" || stopped || (extraData && extraData.skipAutoSync)) return;
        if (!enabled()) return;
        for (const id of ids) if (typeof id === "number") pending.add(id);
        if (!pending.size) return;
        if (timer !== null) clearTimeout(timer);
        timer = setTimeout(() => {
          running = running.then(check).catch((e) => log(`duplicate check: ${SDApi.message(e)}`));
        }, delayMs);
      },
      /** Resolves when the checks asked for so far are done. */
      idle: () => running,
      stop() {
        stopped = true;
        if (timer !== null) clearTimeout(timer);
        timer = null;
        pending.clear();
      },
    };
  },

  /**
   * What the check sends of an item: its Zotero JSON without what says nothing about the work.
   * @param {Zotero.Item} item
   * @returns {Record<string, unknown>}
   */
  itemJSON(item) {
    const json = /** @type {Record<string, unknown>} */ (item.toJSON());
    for (const field of SDCheckOnAdd.DROPPED) delete json[field];
    return json;
  },

  /**
   * The notice in a main window: a banner container where Zotero puts its own banners (sync
   * reminder, retracted items), just above the collections and items trees of the library tab;
   * made on first use (null when the window has no trees to put it above).
   * @param {Window} win
   * @returns {Element | null}
   */
  notice(win) {
    const doc = win.document;
    const existing = doc.getElementById(SDCheckOnAdd.NOTICE_ID);
    if (existing) return existing;
    const trees = doc.getElementById("zotero-trees");
    if (!trees || !trees.parentNode) return null;
    const container = doc.createXULElement("vbox");
    container.id = SDCheckOnAdd.NOTICE_ID;
    container.className = "banner-container sd-notice";
    container.setAttribute("role", "status");
    trees.parentNode.insertBefore(container, trees);
    return container;
  },

  /**
   * Add rows to the notice, newest first; at most MAX_ROWS, then "and N more".
   * @param {Window} win
   * @param {SDNoticeMatch[]} found
   * @param {() => ReturnType<typeof SDApi.create>} client
   */
  show(win, found, client) {
    const container = SDCheckOnAdd.notice(win);
    if (!container) return;
    const doc = win.document;
    for (const found1 of found) {
      container.querySelector(`[data-added="${found1.added.key}"]`)?.remove();
      container.prepend(SDCheckOnAdd.row(doc, found1, client));
    }
    const rows = /** @type {Element[]} */ ([...container.querySelectorAll(".sd-notice-row")]);
    let hidden = Number(container.getAttribute("data-more") || 0);
    for (const row of rows.slice(SDCheckOnAdd.MAX_ROWS)) {
      row.remove();
      hidden += 1;
    }
    container.setAttribute("data-more", String(hidden));
    container.querySelector(".sd-notice-more")?.remove();
    if (hidden) {
      container.append(SDRender.el(doc, "div", { cls: "banner sd-notice-more" }, [
        SDRender.el(doc, "div", { cls: "message", text: `and ${hidden} more added item(s) already in your library: Tools → specter-desk: Duplicates… lists them after the next sync.` }),
        SDCheckOnAdd.closeButton(doc, container),
      ]));
    }
  },

  /**
   * One match: the sentence, Show / Merge / (versions: Link as related) / Not a duplicate, ×.
   * @param {Document} doc
   * @param {SDNoticeMatch} found
   * @param {() => ReturnType<typeof SDApi.create>} client
   */
  row(doc, { added, existing, match }, client) {
    const version = match.kind === "version";
    const title = (/** @type {Zotero.Item} */ item) => `“${item.getField("title")}”`;
    const why = `${SDRender.formatScore(match.score)}: ${(match.reasons || []).slice(0, 3).join("; ")}`;
    const text = version
      ? `A version of ${title(added)} is already in your library as ${title(existing)} (${SDMerge.typeLabel(existing.itemType)}; ${why})`
      : `${title(added)} is already in your library as ${title(existing)} (${why})`;
    const message = SDRender.el(doc, "div", { cls: "message sd-notice-message", text, attrs: { title: text } });
    const status = SDRender.el(doc, "span", { cls: "sd-notice-status" });
    const buttons = SDRender.el(doc, "span", { cls: "sd-notice-buttons" });
    /** @param {string} said */
    const done = (said) => {
      status.textContent = said;
      buttons.remove();
    };
    // for versions, keep the published one; for duplicates, the item that was there first
    const keepAdded = version && SDMerge.versionRank(added.itemType) < SDMerge.versionRank(existing.itemType);
    const [master, other] = keepAdded ? [added, existing] : [existing, added];
    buttons.append(
      SDRender.button(doc, "Show", () => SDActions.selectItem(existing.key, existing.libraryID), "sd-button sd-notice-show"),
      SDRender.button(doc, "Merge", async () => {
        const result = await SDMerge.mergePlan(SDMerge.planItems(master, [other]), version ? "versions" : "duplicates");
        if (!result.merged) throw new Error(`Not merged: ${result.message}`);
        done(result.message);
      }, "sd-button sd-notice-merge"),
    );
    if (version) {
      buttons.append(SDRender.button(doc, "Link as related", async () => {
        const result = await SDMerge.relatePlan(SDMerge.planItems(master, [other]));
        if (!result.related) throw new Error(result.message);
        done(result.message);
      }, "sd-button sd-notice-relate"));
    }
    buttons.append(SDRender.button(doc, "Not a duplicate", async () => {
      await SDCheckOnAdd.markDistinct(client, [added.key, existing.key]);
      done("Noted: specter-desk will not call these two duplicates again.");
    }, "sd-button sd-notice-distinct"));
    const row = SDRender.el(doc, "div", { cls: "banner sd-notice-row", attrs: { "data-added": added.key, "data-existing": existing.key, "data-kind": match.kind } }, [
      message, buttons, status,
    ]);
    row.append(SDCheckOnAdd.closeButton(doc, row));
    return row;
  },

  /**
   * Zotero's banner close button; closing the last row removes the notice.
   * @param {Document} doc
   * @param {Element} target  what it closes
   */
  closeButton(doc, target) {
    const close = SDRender.el(doc, "div", { cls: "close-btn sd-notice-close", attrs: { role: "button", title: "Close", "aria-label": "Close" } }, [
      SDRender.el(doc, "span", { cls: "icon" }),
    ]);
    close.addEventListener("click", () => {
      const container = target.closest(`#${SDCheckOnAdd.NOTICE_ID}`) || target;
      target.remove();
      if (container !== target && !container.querySelector(".sd-notice-row")) container.remove();
    });
    return close;
  },

  /**
   * POST /v1/duplicates/distinct; when the daemon does not know the added item yet (404), ask
   * it to sync, wait for the sync, and try once more.
   * @param {() => ReturnType<typeof SDApi.create>} client
   * @param {string[]} keys
   */
  async markDistinct(client, keys) {
    try {
      return await client().markDistinct(keys, true);
    } catch (e) {
      if (!(e instanceof SDBridgeError) || e.status !== 404) throw e;
    }
    await client().sync();
    const deadline = Date.now() + SDCheckOnAdd.SYNC_WAIT_MS;
    for (;;) {
      const status = await client().syncStatus();
      if (status.state === "idle" || status.state === "failed" || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return client().markDistinct(keys, true);
  },
};
