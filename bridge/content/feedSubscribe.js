// @ts-check
// "Subscribe in Zotero" for a collection: the daemon makes (or reuses) the collection's feed
// and answers its Atom URL (POST /v1/feeds); Zotero then gets one feed for that URL through its
// own API (Zotero.Feed, as File → New Feed → From URL does), refreshed at once, so the papers
// arrive as feed items with Zotero's "Add to My Library".

/**
 * @typedef {object} SDZoteroFeed  the part of Zotero.Feed the plugin uses (zotero-types leaves it bare)
 * @property {number} libraryID
 * @property {string} name
 * @property {string} url
 * @property {string | null} lastCheckError
 * @property {() => Promise<unknown>} saveTx
 * @property {() => Promise<void>} updateFeed
 */
/**
 * @typedef {object} SDSubscribed  what subscribing one collection did
 * @property {string} collection  the collection's name
 * @property {SDZoteroFeed} feed  the Zotero feed
 * @property {boolean} madeFeed  a new Zotero feed (false: the one there was)
 * @property {boolean} newURL  the Zotero feed's URL was replaced (the daemon's token changed)
 * @property {number} entries  papers the daemon's feed serves
 * @property {string | null} message  why it serves nothing yet
 */

var SDFeedSubscribe = {
  /** @type {Promise<unknown>} subscriptions run one after another (two clicks make one feed) */
  queue: Promise.resolve(),

  /** A feed URL of the bridge: origin, feed id, token. */
  FEED_URL: /^(https?:\/\/[^/]+)\/feeds\/([^/]+)\/[^/]+\.atom$/,

  /**
   * The collections selected in the Zotero pane (Zotero 10 allows several and removed
   * getSelectedCollection(); Zotero 7-9 have only that one).
   * @param {_ZoteroTypes.ZoteroPane | null | undefined} pane
   * @returns {Zotero.Collection[]}
   */
  selectedCollections(pane) {
    if (!pane) return [];
    /** @type {{ getSelectedCollections?: () => Zotero.Collection[], getSelectedCollection?: () => Zotero.Collection | false }} */
    const either = /** @type {any} */ (pane);
    if (typeof either.getSelectedCollections === "function") return either.getSelectedCollections() || [];
    const one = either.getSelectedCollection ? either.getSelectedCollection() : false;
    return one ? [one] : [];
  },

  /**
   * The Zotero feed already subscribed to this bridge feed: the same URL, or the same bridge
   * and feed id with an older token (replaced with `feeds set --new-token`).
   * @param {string} url
   * @returns {SDZoteroFeed | null}
   */
  findFeed(url) {
    const wanted = SDFeedSubscribe.FEED_URL.exec(url);
    /** @type {SDZoteroFeed[]} */
    const feeds = Zotero.Feeds.getAll();
    const same = feeds.find((feed) => feed.url === url);
    if (same || !wanted) return same || null;
    return feeds.find((feed) => {
      const known = SDFeedSubscribe.FEED_URL.exec(feed.url);
      return Boolean(known && known[1] === wanted[1] && known[2] === wanted[2]);
    }) || null;
  },

  /**
   * Subscribe Zotero to a collection's feed: ask the daemon for it, make (or reuse) the
   * Zotero feed, refresh it now. Throws SDBridgeError when the daemon cannot answer.
   * @param {ReturnType<typeof SDApi.create>} client
   * @param {Zotero.Collection} collection
   * @returns {Promise<SDSubscribed>}
   */
  async subscribe(client, collection) {
    const answer = await client.subscribeFeed(collection.key);
    let feed = SDFeedSubscribe.findFeed(answer.url);
    const madeFeed = !feed;
    const newURL = Boolean(feed && feed.url !== answer.url);
    if (!feed) {
      /** @type {typeof Zotero.Feed} */
      const Feed = Zotero.Feed;
      feed = /** @type {SDZoteroFeed} */ (/** @type {unknown} */ (new Feed(/** @type {any} */ ({
        name: `specter-desk: ${answer.feed.name}`,
        url: answer.url,
      }))));
      await feed.saveTx();
    } else if (newURL) {
      feed.url = answer.url;
      await feed.saveTx();
    }
    await feed.updateFeed();
    return { collection: collection.name, feed, madeFeed, newURL, entries: answer.entries, message: answer.message };
  },

  /**
   * What to tell the user when subscribing failed, in one or two sentences.
   * @param {unknown} e
   * @param {string} collection  the collection's name
   * @returns {string}
   */
  problem(e, collection) {
    if (e instanceof SDBridgeError) {
      if (e.code === SDApi.DAEMON_DOWN || e.code === SDApi.TIMEOUT) {
        return `${e.message} Then choose Subscribe in Zotero again.`;
      }
      if (e.code === SDApi.NO_TOKEN || e.status === 401) {
        return `specter-desk refused the plugin's token (${e.message}). Check the token in Settings → specter-desk (Test connection), then try again.`;
      }
      if (e.status === 404) {
        return `specter-desk does not know the collection “${collection}” yet: it has not been synced. Run Tools → specter-desk: Sync now, wait for it to finish, then subscribe again.`;
      }
    }
    return `Could not subscribe to “${collection}”: ${SDApi.message(e)}`;
  },

  /**
   * What to tell the user when it worked.
   * @param {SDSubscribed} done
   * @returns {string}
   */
  outcome(done) {
    const what = done.madeFeed
      ? `Zotero now has the feed “${done.feed.name}”`
      : `Zotero already had the feed “${done.feed.name}”${done.newURL ? " (its address is updated)" : ""}`;
    const served = done.entries
      ? `${done.entries} recommended paper(s); use Add to My Library on the ones you want.`
      : `no papers yet${done.message ? ` (${done.message})` : ""}; specter-desk refreshes it after each sync.`;
    const failed = done.feed.lastCheckError ? ` Zotero could not read it: ${done.feed.lastCheckError}.` : "";
    return `${what}, for the collection “${done.collection}”: ${served}${failed}`;
  },

  /**
   * Subscribe every selected collection, telling the user what happened in a Zotero progress
   * window (one line per collection), after any subscription still under way. Returns those
   * lines (the last one says why it stopped).
   * @param {ReturnType<typeof SDApi.create>} client
   * @param {Window} window
   * @returns {Promise<string[]>}
   */
  run(client, window) {
    const next = SDFeedSubscribe.queue.then(() => SDFeedSubscribe.subscribeSelected(client, window));
    SDFeedSubscribe.queue = next.catch(() => null);
    return next;
  },

  /**
   * @param {ReturnType<typeof SDApi.create>} client
   * @param {Window} window
   * @returns {Promise<string[]>}
   */
  async subscribeSelected(client, window) {
    const collections = SDFeedSubscribe.selectedCollections(Zotero.getActiveZoteroPane());
    /** @type {string[]} */
    const lines = [];
    let ok = collections.length > 0;
    if (!ok) lines.push("Select a collection first, then choose Subscribe in Zotero.");
    for (const collection of collections) {
      try {
        lines.push(SDFeedSubscribe.outcome(await SDFeedSubscribe.subscribe(client, collection)));
      } catch (e) {
        lines.push(SDFeedSubscribe.problem(e, collection.name));
        ok = false;
        break;
      }
    }
    SDFeedSubscribe.show(window, ok ? "Subscribed in Zotero" : "specter-desk: not subscribed", lines);
    return lines;
  },

  /**
   * Show lines in a Zotero progress window (the one Zotero uses for its own notices).
   * @param {Window} window
   * @param {string} headline
   * @param {string[]} lines
   */
  show(window, headline, lines) {
    const progress = new Zotero.ProgressWindow({ window, closeOnClick: true });
    progress.changeHeadline(headline);
    for (const line of lines) progress.addDescription(line);
    progress.show();
    progress.startCloseTimer(12000);
  },
};
