// @ts-check
// Script of dialog.xhtml: hands the window to the plugin code that opened it.
window.addEventListener("load", () => {
  const io = /** @type {{ onLoad(win: Window): void } | undefined} */ (
    /** @type {any} */ (window).arguments?.[0]
  );
  if (io && typeof io.onLoad === "function") io.onLoad(window);
});
