// @ts-check
// Finds and reads the daemon's bearer token file (`<data dir>/bridge-token`, see bridge/API.md).
// Kept small and separate so tests can replace SDTokenFile.read.

var SDTokenFile = {
  FILE_NAME: "bridge-token",
  APP_DIR: "specter-desk",

  /**
   * Where the token file can be, most specific first (platformdirs' user_data_dir rules).
   * @param {object} where
   * @param {(name: string) => string} where.env   environment lookup, "" when unset
   * @param {"win" | "mac" | "linux"} where.platform
   * @param {string} where.home                    the user's home directory
   * @param {(...parts: string[]) => string} where.join
   * @returns {string[]}
   */
  candidatePaths({ env, platform, home, join }) {
    const paths = [];
    const override = env("SPECTER_DESK_HOME");
    if (override) paths.push(join(override, SDTokenFile.FILE_NAME));
    if (platform === "win") {
      const local = env("LOCALAPPDATA") || join(home, "AppData", "Local");
      paths.push(join(local, SDTokenFile.APP_DIR, SDTokenFile.FILE_NAME));
    } else if (platform === "mac") {
      paths.push(
        join(home, "Library", "Application Support", SDTokenFile.APP_DIR, SDTokenFile.FILE_NAME),
      );
    } else {
      const xdg = env("XDG_DATA_HOME") || join(home, ".local", "share");
      paths.push(join(xdg, SDTokenFile.APP_DIR, SDTokenFile.FILE_NAME));
    }
    return paths;
  },

  /**
   * Where this Zotero looks for the token file (candidatePaths with its environment).
   * @returns {string[]}
   */
  where() {
    const env = (/** @type {string} */ name) =>
      Services.env.exists(name) ? Services.env.get(name) : "";
    const platform = Zotero.isWin ? "win" : Zotero.isMac ? "mac" : "linux";
    const home = Services.dirsvc.get("Home", Ci.nsIFile).path;
    const join = (/** @type {string[]} */ ...parts) => PathUtils.join(...parts);
    return SDTokenFile.candidatePaths({ env, platform, home, join });
  },

  /**
   * The token from the first candidate file that exists, or null.
   * @returns {Promise<string | null>}
   */
  async read() {
    for (const path of SDTokenFile.where()) {
      try {
        if (!(await IOUtils.exists(path))) continue;
        const token = (await IOUtils.readUTF8(path)).trim();
        if (token) return token;
      } catch (e) {
        Zotero.debug(`specter-desk: cannot read ${path}: ${e}`);
      }
    }
    return null;
  },
};
