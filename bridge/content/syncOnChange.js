// @ts-check
// A Notifier listener (plugin.js registers the one observer): when regular items (not feed
// items) are added, modified, trashed or deleted, ask the bridge to sync, debounced so a
// burst of changes (an import, a merge) makes one request.

var SDSyncOnChange = {
  EVENTS: ["add", "modify", "trash", "delete"],

  /**
   * @param {object} options
   * @param {() => boolean} options.enabled          read on every change (the pref)
   * @param {() => Promise<unknown>} options.sync    POSTs /v1/sync
   * @param {number} [options.delayMs]               quiet time before syncing
   * @param {(message: string) => void} [options.log]
   */
  create({ enabled, sync, delayMs = 2000, log = () => {} }) {
    /** @type {ReturnType<typeof setTimeout> | null} */
    let timer = null;
    let stopped = false;
    let running = false;
    let pendingAfterRun = false;

    async function fire() {
      timer = null;
      if (running) {
        pendingAfterRun = true;
        return;
      }
      running = true;
      try {
        await sync();
      } catch (e) {
        log(`sync request failed: ${SDApi.message(e)}`);
      } finally {
        running = false;
      }
      if (pendingAfterRun && !stopped) {
        pendingAfterRun = false;
        schedule();
      }
    }

    function schedule() {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(fire, delayMs);
    }

    /**
     * @param {string} event
     * @param {string} type
     * @param {Array<string | number>} ids
     */
    function relevant(event, type, ids) {
      if (type !== "item" || !SDSyncOnChange.EVENTS.includes(event)) return false;
      if (event === "delete") return true; // the items are gone: nothing left to inspect
      const numeric = ids.filter((id) => typeof id === "number");
      if (!numeric.length) return true;
      try {
        // feed items (Zotero's feed reader, the plugin's own feeds too) are no library change
        return Zotero.Items.get(/** @type {number[]} */ (numeric)).some((item) => item.isRegularItem() && !item.isFeedItem);
      } catch (_e) {
        return true;
      }
    }

    return {
      /** @type {_ZoteroTypes.Notifier.Notify} */
      notify(event, type, ids) {
        try {
          if (stopped || !enabled() || !relevant(event, type, ids)) return;
          schedule();
        } catch (e) {
          log(`notifier: ${e}`);
        }
      },
      stop() {
        stopped = true;
        if (timer !== null) clearTimeout(timer);
        timer = null;
        pendingAfterRun = false;
      },
      /** True while a sync request is waiting for the quiet period to end. */
      get pending() {
        return timer !== null;
      },
    };
  },
};
