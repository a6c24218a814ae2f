// @ts-check
// The HTTP client for the specter-desk bridge. Uses only the endpoints listed in bridge/API.md.

/**
 * @typedef {object} PaperHit
 * @property {string} key
 * @property {string} title
 * @property {number | null} year
 * @property {string} venue
 * @property {string} first_author
 * @property {string | null} doi
 * @property {string | null} arxiv_id
 * @property {"library" | "candidates"} pool
 * @property {number} score
 * @property {string[]} [reasons]  what citations say ("cites this paper", ...)
 * @property {Record<string, number | null>} [scores]  meaning / citations, when fused
 */
/**
 * @typedef {object} RelatedResponse
 * @property {{ key: string, title: string, year: number | null, has_abstract: boolean }} item
 * @property {string | null} model
 * @property {"meaning" | "citations" | "both"} [by]  how the list was ranked
 * @property {PaperHit[]} related
 * @property {string} [message]
 */
/**
 * @typedef {object} CitationEntry  a work in a Cites / Cited-by list
 * @property {string} work
 * @property {string} title
 * @property {number | null} year
 * @property {string} first_author
 * @property {string[]} authors
 * @property {string} venue
 * @property {string | null} doi
 * @property {string} url
 * @property {number | null} cited_by_count
 * @property {string | null} key
 * @property {"library" | "candidates" | null} pool
 * @property {boolean} in_library
 * @typedef {object} CitationsResponse
 * @property {string} key
 * @property {string} title
 * @property {string | null} work  null: not matched to a work yet
 * @property {string | null} matched_by
 * @property {CitationEntry[]} cites
 * @property {CitationEntry[]} cited_by
 * @property {{ cites: number, cited_by: number, cited_by_listed: number, cites_in_library: number, cited_by_in_library: number }} counts
 * @property {Record<string, string | null>} fetched_at
 * @property {string} [message]
 */
/**
 * @typedef {PaperHit & { because?: { key: string, title: string, score: number }[] }} Recommendation
 * @typedef {object} RecommendationsResponse
 * @property {string} since
 * @property {{ key: string, title: string }[]} seeds
 * @property {string} ranker
 * @property {Recommendation[]} results
 * @property {string} [message]
 */
/**
 * @typedef {object} DuplicatePaper
 * @property {string} key
 * @property {string} title
 * @property {number | null} year
 * @property {string} first_author
 * @property {string | null} doi
 * @property {string} item_type
 * @property {string} [venue]
 * @typedef {object} DuplicateCluster
 * @property {string | number} id
 * @property {"duplicates" | "versions"} [kind]  duplicates: merge; versions: merge or relate
 * @property {number} score
 * @property {string} master  the record to keep (for versions: the published one)
 * @property {boolean} [mixed_types]
 * @property {DuplicatePaper[]} papers
 * @property {{ a: string, b: string, score: number, reasons: string[], versions?: string[] }[]} pairs
 * @property {Record<string, unknown>} merged
 * @typedef {{ clusters: DuplicateCluster[], versions?: DuplicateCluster[] }} DuplicatesResponse
 */
/**
 * @typedef {object} DuplicateMatch  an item being added that is already in the library
 * @property {number} index  its position in the request
 * @property {string} key  the library paper it matches
 * @property {string} title
 * @property {number} score
 * @property {string[]} reasons
 * @property {"duplicate" | "version"} kind
 * @typedef {{ keys: string[], distinct: boolean, pairs: number, changed: number }} DistinctResponse
 */
/**
 * @typedef {object} SyncStatus
 * @property {"idle" | "queued" | "running" | "failed"} state
 * @property {string | null} library
 * @property {{ done: number, total: number } | null} progress
 * @property {{ code: string, message: string } | null} last_error
 */

/**
 * @typedef {object} FeedSubscription  POST /v1/feeds
 * @property {{ id: string, name: string, since: string, limit: number, refreshed_at: string | null }} feed
 * @property {string} url  the feed's Atom capability URL
 * @property {boolean} created
 * @property {number} entries
 * @property {string | null} message
 */

/** An error from the bridge (or from reaching it), with the bridge's stable code. */
var SDBridgeError = class SDBridgeError extends Error {
  /**
   * @param {string} code  a bridge error code, or one of SDApi.DAEMON_DOWN / TIMEOUT / BAD_URL / NO_TOKEN
   * @param {string} message
   * @param {number} status HTTP status, 0 when there was no response
   */
  constructor(code, message, status) {
    super(message);
    this.name = "SDBridgeError";
    this.code = code;
    this.status = status;
  }
};

var SDApi = {
  DAEMON_DOWN: "daemon_not_running",
  TIMEOUT: "timeout",
  BAD_URL: "bad_url",
  BAD_RESPONSE: "bad_response",
  NO_TOKEN: "no_token",
  NO_TOKEN_MESSAGE: "No specter-desk token: none in Settings → specter-desk and no bridge-token file where the daemon writes it.",
  /**
   * The message of an error, wherever it was made: errors thrown by Zotero come from another
   * compartment, where `instanceof Error` is false.
   * @param {unknown} e
   * @returns {string}
   */
  message(e) {
    const text = e && typeof e === "object" && "message" in e ? /** @type {{ message: unknown }} */ (e).message : e;
    return String(text);
  },

  /** What withTimeout rejects with when the time is up. */
  TIMED_OUT: Symbol("timed out"),

  /**
   * The promise's result, or a rejection with SDApi.TIMED_OUT after ms. The request itself
   * is left to finish and its answer is dropped: the bootstrap sandbox Zotero 7-10 gives
   * plugins has fetch but no AbortController.
   * @template T
   * @param {Promise<T>} promise
   * @param {number} ms
   * @returns {Promise<T>}
   */
  withTimeout(promise, ms) {
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    const expired = new Promise((_resolve, reject) => {
      timer = setTimeout(() => reject(SDApi.TIMED_OUT), ms);
    });
    return /** @type {Promise<T>} */ (Promise.race([promise, expired]).finally(() => clearTimeout(timer)));
  },

  /** Every [method, path] the plugin calls; tests check each against API.md and openapi.json. */
  ENDPOINTS: [
    ["GET", "/v1/health"],
    ["GET", "/v1/papers/{key}/related"],
    ["GET", "/v1/papers/{key}/citations"],
    ["GET", "/v1/recommendations"],
    ["GET", "/v1/duplicates"],
    ["POST", "/v1/duplicates/check"],
    ["POST", "/v1/duplicates/distinct"],
    ["POST", "/v1/sync"],
    ["GET", "/v1/sync"],
    ["POST", "/v1/feedback"],
    ["POST", "/v1/feeds"],
  ],

  /**
   * A client bound to one base URL. getToken(refresh) returns the bearer token; with
   * refresh=true it must re-read its source (the daemon may have written a new token).
   * @param {object} options
   * @param {string} options.url
   * @param {(refresh: boolean) => Promise<string | null>} options.getToken
   * @param {typeof fetch} [options.fetch]
   * @param {number} [options.timeoutMs]
   */
  create({ url, getToken, fetch: fetchImpl = fetch, timeoutMs = 15000 }) {
    const base = url.replace(/\/+$/, "");

    /**
     * @param {"GET" | "POST"} method
     * @param {string} path
     * @param {{ query?: Record<string, string | number | undefined>, body?: unknown, auth?: boolean }} [opts]
     * @returns {Promise<any>}
     */
    async function request(method, path, { query, body, auth = true } = {}) {
      const problem = SDConfig.urlProblem(base);
      if (problem) throw new SDBridgeError(SDApi.BAD_URL, problem, 0);
      const target = new URL(base + path);
      for (const [name, value] of Object.entries(query || {})) {
        if (value !== undefined && value !== "") target.searchParams.set(name, String(value));
      }
      let token = auth ? (await getToken(false)) || (await getToken(true)) : null;
      if (auth && !token) throw new SDBridgeError(SDApi.NO_TOKEN, SDApi.NO_TOKEN_MESSAGE, 0);
      let response = await send(method, target, body, token);
      if (response.status === 401 && auth) {
        // the daemon may have made a new token (or its file is gone): read it again, once
        const fresh = await getToken(true);
        if (!fresh) throw new SDBridgeError(SDApi.NO_TOKEN, SDApi.NO_TOKEN_MESSAGE, 0);
        if (fresh !== token) response = await send(method, target, body, (token = fresh));
      }
      let data = null;
      const text = response.text;
      try {
        data = text ? JSON.parse(text) : null;
      } catch (_e) {
        data = null;
      }
      if (!response.ok) {
        const err = data && data.error ? data.error : null;
        throw new SDBridgeError(
          err && err.code ? String(err.code) : `http_${response.status}`,
          err && err.message ? String(err.message) : `The bridge answered HTTP ${response.status}.`,
          response.status,
        );
      }
      if (data === null) {
        throw new SDBridgeError(SDApi.BAD_RESPONSE, "The bridge sent a reply that is not JSON.", response.status);
      }
      return data;
    }

    /**
     * @param {string} method
     * @param {URL} target
     * @param {unknown} body
     * @param {string | null} token
     * @returns {Promise<{ status: number, ok: boolean, text: string }>}  the answer, body read
     */
    async function send(method, target, body, token) {
      /** @type {Record<string, string>} */
      const headers = { Accept: "application/json" };
      if (token) headers.Authorization = `Bearer ${token}`;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      // No AbortController: Zotero's plugin sandbox does not have one (see SDApi.withTimeout).
      const reply = fetchImpl(target.href, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then(async (response) => ({ status: response.status, ok: response.ok, text: await response.text() }));
      try {
        return await SDApi.withTimeout(reply, timeoutMs);
      } catch (e) {
        if (e === SDApi.TIMED_OUT) {
          throw new SDBridgeError(SDApi.TIMEOUT, `The bridge at ${base} did not answer within ${Math.round(timeoutMs / 1000)} s.`, 0);
        }
        throw new SDBridgeError(
          SDApi.DAEMON_DOWN,
          `specter-desk is not running at ${base}. Start it with: specter-desk serve`,
          0,
        );
      }
    }

    return {
      base,
      /** @returns {Promise<{ status: string, version: string }>} */
      health: () => request("GET", "/v1/health", { auth: false }),
      /**
       * @param {string} key
       * @param {{ k?: number, model?: string }} [opts]
       * @returns {Promise<RelatedResponse>}
       */
      related: (key, { k = 10, model = "" } = {}) =>
        request("GET", `/v1/papers/${encodeURIComponent(key)}/related`, { query: { k, model } }),
      /**
       * @param {string} key
       * @param {{ limit?: number }} [opts]
       * @returns {Promise<CitationsResponse>}
       */
      citations: (key, { limit = 100 } = {}) =>
        request("GET", `/v1/papers/${encodeURIComponent(key)}/citations`, { query: { limit } }),
      /**
       * @param {{ since?: string, n?: number }} [opts]
       * @returns {Promise<RecommendationsResponse>}
       */
      recommendations: ({ since = "week", n = 20 } = {}) =>
        request("GET", "/v1/recommendations", { query: { since, n } }),
      /**
       * @param {{ minScore?: number }} [opts]
       * @returns {Promise<DuplicatesResponse>}
       */
      duplicates: ({ minScore } = {}) =>
        request("GET", "/v1/duplicates", { query: { min_score: minScore } }),
      /**
       * Which of these items (Zotero item JSON) are already in the library.
       * @param {Record<string, unknown>[]} items  1..200
       * @returns {Promise<{ matches: DuplicateMatch[] }>}
       */
      checkDuplicates: (items) => request("POST", "/v1/duplicates/check", { body: { items } }),
      /**
       * Remember (distinct=false: forget) that these papers are not duplicates of each other.
       * @param {string[]} keys
       * @param {boolean} [distinct]
       * @returns {Promise<DistinctResponse>}
       */
      markDistinct: (keys, distinct = true) => request("POST", "/v1/duplicates/distinct", { body: { keys, distinct } }),
      /**
       * @param {string} [library]
       * @returns {Promise<SyncStatus>}
       */
      sync: (library) => request("POST", "/v1/sync", { body: library ? { library } : {} }),
      /** @returns {Promise<SyncStatus>} */
      syncStatus: () => request("GET", "/v1/sync"),
      /**
       * @param {string} key
       * @param {"up" | "down"} vote
       * @returns {Promise<{ key: string, vote: string, labels: { up: number, down: number } }>}
       */
      feedback: (key, vote) => request("POST", "/v1/feedback", { body: { key, vote } }),
      /**
       * The collection's feed (made once, then reused) and its Atom URL.
       * @param {string} collection  a Zotero collection key
       * @returns {Promise<FeedSubscription>}
       */
      subscribeFeed: (collection) => request("POST", "/v1/feeds", { body: { collection } }),
    };
  },
};
