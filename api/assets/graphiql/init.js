// Starts GraphiQL on the page served at the GraphQL endpoint (GET /graphql). The
// endpoint is this page's own path and subscriptions are at "<path>/ws", so the page
// also works behind a proxy that serves Auskunft under a prefix. Every asset comes
// from this server: the page's Content-Security-Policy allows nothing else.
(function () {
  "use strict";
  var path = window.location.pathname.replace(/\/+$/, "") || "/graphql";
  var http = new URL(path, window.location.href);
  var ws = new URL(path + "/ws", window.location.href);
  ws.protocol = ws.protocol === "https:" ? "wss:" : "ws:";

  var fetcher = GraphiQL.createFetcher({
    url: http.toString(),
    subscriptionUrl: ws.toString(),
    fetch: function (url, options) {
      return window.fetch(url, Object.assign({}, options, { credentials: "same-origin" }));
    },
  });

  var root = document.getElementById("graphiql");
  root.textContent = "";
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      // The header editor starts open with the template every call needs; headers
      // are not kept in the browser's storage.
      defaultEditorToolsVisibility: "headers",
      defaultHeaders: '{\n  "Authorization": "Bearer <API key>"\n}',
      shouldPersistHeaders: false,
      defaultQuery:
        "# Put an API key into the Authorization header below (the demo prints one\n" +
        "# per role), then run this query with the play button.\n" +
        "query Me {\n" +
        "  me {\n" +
        "    apiKeyName\n" +
        "    roles\n" +
        "    organization { name }\n" +
        "  }\n" +
        "}\n",
    })
  );
})();
