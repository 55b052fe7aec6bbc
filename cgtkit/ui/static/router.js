// cgtkit's in-app navigation (see cgtkit/ui/router.py).
// A click on <a data-cgt-page="..."> inside the same app switches the page in the same kernel
// instead of loading a new page (and a new kernel). In Voila, the address bar follows the page
// (?page=...), so reload, bookmarks and the browser's back and forward buttons land on it.
function render({ model, el }) {
  el.classList.add("cgt-router");
  const inVoila = document.body && document.body.dataset.voila === "voila";
  const app = () => el.closest(".cgt-app") || document.body;

  const onClick = (event) => {
    const link = event.target && event.target.closest ? event.target.closest("a[data-cgt-page]") : null;
    if (!link || link.closest(".cgt-app") !== el.closest(".cgt-app")) return;
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return; // new tab: let it load
    event.preventDefault();
    model.set("page", link.dataset.cgtPage);
    model.save_changes();
  };

  const urlPage = () => new URL(window.location.href).searchParams.get("page");
  const follow = () => {  // the kernel switched page: record it in the address bar
    if (!inVoila || urlPage() === model.get("page")) return;
    const url = new URL(window.location.href);
    url.searchParams.set("page", model.get("page"));
    window.history.pushState({ cgtPage: model.get("page") }, "", url);
  };
  const onPop = () => {  // back / forward
    const wanted = urlPage() || model.get("home");
    if (wanted && wanted !== model.get("page")) {
      model.set("page", wanted);
      model.save_changes();
    }
  };

  // The user came back to this tab: the kernel re-checks the workbook, which another tab may have changed.
  const onVisible = () => { if (document.visibilityState === "visible") model.send({ event: "visible" }); };

  document.addEventListener("click", onClick);
  window.addEventListener("focus", onVisible);
  document.addEventListener("visibilitychange", onVisible);
  model.on("change:page", follow);
  if (inVoila) {
    window.addEventListener("popstate", onPop);
    if (urlPage() !== model.get("page")) {
      const url = new URL(window.location.href);
      url.searchParams.set("page", model.get("page"));
      window.history.replaceState({ cgtPage: model.get("page") }, "", url);
    }
  }
  app().classList.add("cgt-router-ready");
  return () => {
    document.removeEventListener("click", onClick);
    window.removeEventListener("focus", onVisible);
    document.removeEventListener("visibilitychange", onVisible);
    window.removeEventListener("popstate", onPop);
    model.off("change:page", follow);
  };
}
export default { render };
