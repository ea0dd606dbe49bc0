// The query UI: YASGUI (vendored from npm, see frontend/) over this site's own
// endpoint, opening on the example queries. The page passes its settings as a
// JSON block (#query-ui-config), so no inline script is needed and a strict
// Content-Security-Policy (script-src 'self') works. Without JavaScript, or if
// YASGUI fails to load, the plain form on the page stays in place.
(function () {
  "use strict";

  var root = document.getElementById("query-ui");
  var configEl = document.getElementById("query-ui-config");
  if (!root || !configEl) return;
  var Yasgui = window.Yasgui;
  if (typeof Yasgui !== "function") {
    root.setAttribute("data-state", "unavailable");
    return;
  }
  var config = JSON.parse(configEl.textContent);
  var endpoint = new URL(config.endpoint, window.location.href).href;

  // Only the autocompleters that work offline: "property" and "class" would ask
  // a third-party service (Linked Open Vocabularies) about every word typed.
  var LOCAL_COMPLETERS = ["prefixes", "variables"];
  function localOnly(names) {
    return names.filter(function (name) { return LOCAL_COMPLETERS.indexOf(name) >= 0; });
  }
  // YASGUI merges arrays index by index, so the defaults themselves are trimmed.
  Yasgui.Yasqe.defaults.autocompleters = localOnly(Yasgui.Yasqe.defaults.autocompleters);
  Yasgui.defaults.yasqe.autocompleters = localOnly(Yasgui.defaults.yasqe.autocompleters);

  function exampleTab(example) {
    return {
      name: example.name,
      yasqe: { value: example.query },
      requestConfig: { endpoint: endpoint, method: "POST" }
    };
  }

  var yasgui = new Yasgui(root, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    persistenceId: config.persistenceId,
    autoAddOnInit: false,
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    yasqe: { value: config.newTabQuery },
    yasr: { prefixes: config.prefixes, defaultPlugin: "table" }
  });

  // A first visit (or every tab closed): one tab per example, the first one active.
  if (yasgui.persistentConfig.getTabs().length === 0) {
    if (config.examples.length) {
      config.examples.forEach(function (example, i) { yasgui.addTab(i === 0, exampleTab(example)); });
    } else {
      yasgui.addTab(true);
    }
  }

  // Results link the dataset's IRIs to this site's pages (a local copy stays
  // browsable), not to the canonical base IRI, which may point elsewhere.
  var base = config.baseIri;
  function localise(anchor) {
    var href = anchor.getAttribute("href");
    if (href && href.indexOf(base) === 0) {
      anchor.setAttribute("href", config.siteRoot + href.slice(base.length));
      anchor.setAttribute("title", href);
    }
  }
  new MutationObserver(function (records) {
    records.forEach(function (record) {
      record.addedNodes.forEach(function (node) {
        if (node.nodeType !== 1) return;
        if (node.matches("a.iri")) localise(node);
        node.querySelectorAll("a.iri").forEach(localise);
      });
    });
  }).observe(root, { childList: true, subtree: true });

  var again = document.getElementById("query-ui-examples");
  if (again && config.examples.length) {
    again.addEventListener("click", function () {
      config.examples.forEach(function (example) {
        yasgui.addTab(false, exampleTab(example), { avoidDuplicateTabs: true });
      });
      var tabs = yasgui.persistentConfig.getTabs();
      for (var i = 0; i < tabs.length; i++) {
        if (yasgui.persistentConfig.getTab(tabs[i]).name === config.examples[0].name) {
          yasgui.selectTabId(tabs[i]);
          break;
        }
      }
    });
    again.parentNode.hidden = false;
  }

  // The editor works: the plain form is no longer needed on screen.
  var plain = document.getElementById("plain-query");
  if (plain) plain.hidden = true;
  root.setAttribute("data-state", "ready");
})();
