// @ts-check
// The plugin's settings, read from Zotero preferences (defaults in ../prefs.js).

/**
 * @typedef {object} SDSettings
 * @property {string} url      bridge base URL, always on this computer
 * @property {string} token    the token typed into the preferences ("" = read the token file)
 * @property {number} k        number of related papers to show (1..100)
 * @property {string} model    model name passed to the bridge ("" = the daemon's default)
 * @property {boolean} syncOnChange  ask the bridge to sync when items change
 * @property {number} syncDelayMs  quiet time after the last change before syncing
 * @property {boolean} checkOnAdd  ask the bridge whether items being added are already there
 */

var SDConfig = {
  PREFIX: "extensions.specter-desk.",
  DEFAULT_URL: "http://127.0.0.1:23120",
  LOOPBACK_HOSTS: ["127.0.0.1", "localhost", "[::1]"],

  /**
   * Read the settings through a Zotero.Prefs-like object (global pref names).
   * @param {{ get(name: string, global?: boolean): unknown }} prefs
   * @returns {SDSettings}
   */
  read(prefs) {
    /** @param {string} name */
    const get = (name) => prefs.get(SDConfig.PREFIX + name, true);
    const k = Number.parseInt(String(get("results") ?? "10"), 10);
    const sync = get("syncOnChange");
    const check = get("checkOnAdd");
    const delay = Number.parseInt(String(get("syncDelayMs") ?? "2000"), 10);
    return {
      url: String(get("bridgeURL") || SDConfig.DEFAULT_URL).trim().replace(/\/+$/, ""),
      token: String(get("token") ?? "").trim(),
      k: Number.isFinite(k) ? Math.min(100, Math.max(1, k)) : 10,
      model: String(get("model") ?? "").trim(),
      syncOnChange: sync === undefined ? true : Boolean(sync),
      syncDelayMs: Number.isFinite(delay) && delay >= 0 ? delay : 2000,
      checkOnAdd: check === undefined ? true : Boolean(check),
    };
  },

  /**
   * Why a bridge URL is refused, or null when it is fine. The token must never leave this
   * computer, so only http on a loopback host is accepted.
   * @param {string} url
   * @returns {string | null}
   */
  urlProblem(url) {
    let parsed;
    try {
      parsed = new URL(url);
    } catch (_e) {
      return `The bridge URL "${url}" is not a URL; use ${SDConfig.DEFAULT_URL}.`;
    }
    if (parsed.protocol !== "http:" || !SDConfig.LOOPBACK_HOSTS.includes(parsed.hostname)) {
      return `The bridge URL must point to this computer (http://127.0.0.1:PORT), not "${url}".`;
    }
    return null;
  },
};
