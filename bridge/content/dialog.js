// @ts-check
// Script of dialog.xhtml: hands the window to the plugin code that opened it
// (window.openDialog(url, name, features, io) -> window.arguments[0] is io).
window.addEventListener("load", () => {
  const arg = /** @type {any} */ (window).arguments?.[0];
  const io = /** @type {{ onLoad(win: Window): void } | undefined} */ (arg?.wrappedJSObject ?? arg);
  if (io && typeof io.onLoad === "function") io.onLoad(window);
});
