// Boots GraphiQL from the local UMD globals (React, ReactDOM, GraphiQL, graphqlWs).
// Loaded as a file, not inline, so the page's CSP needs no 'unsafe-inline' for scripts.
(function () {
  "use strict";

  // Radix's scroll lock (dialogs) adds a <style> element and reads its CSP nonce from this global.
  var nonce = document.querySelector('meta[name="style-nonce"]');
  if (nonce) {
    window.__webpack_nonce__ = nonce.getAttribute("content");
  }

  var httpUrl = window.location.origin + window.location.pathname;
  var wsUrl = httpUrl.replace(/^http/, "ws");
  var FORBIDDEN = 4403; // our server's answer to a bad token: retrying cannot help

  function authorization(headers) {
    for (var name in headers || {}) {
      if (name.toLowerCase() === "authorization" && headers[name]) {
        return String(headers[name]);
      }
    }
    return null;
  }

  // The server takes a websocket's caller from connection_init, not from HTTP headers: each
  // Authorization value from the Headers tab gets its own client with it as connectionParams.
  var current = null;

  function fetcherFor(auth) {
    if (current && current.auth === auth) {
      return current.fetcher;
    }
    if (current) {
      current.wsClient.dispose();
    }
    var wsClient = graphqlWs.createClient({
      url: wsUrl,
      connectionParams: auth ? { Authorization: auth } : {},
      shouldRetry: function (event) {
        return !(event && event.code === FORBIDDEN);
      },
    });
    current = {
      auth: auth,
      wsClient: wsClient,
      fetcher: GraphiQL.createFetcher({
        url: httpUrl,
        subscriptionUrl: wsUrl,
        wsClient: { subscribe: subscribeVia(wsClient) },
      }),
    };
    return current.fetcher;
  }

  // The toolkit turns a subscription's error into a rejected promise nobody awaits (an uncaught
  // error in the console): hand it errors as a result instead, shown in the response pane.
  function subscribeVia(wsClient) {
    return function (payload, sink) {
      return wsClient.subscribe(payload, {
        next: function (result) {
          sink.next(result);
        },
        complete: function () {
          sink.complete();
        },
        error: function (error) {
          sink.next({ errors: asErrors(error) });
          sink.complete();
        },
      });
    };
  }

  function asErrors(error) {
    if (Array.isArray(error)) {
      return error; // the server's `error` message: GraphQL errors
    }
    if (error && typeof error.code === "number") {
      var reason = error.reason ? " " + error.reason : "";
      return [{ message: "Socket closed with event " + error.code + reason }];
    }
    return [{ message: error && error.message ? error.message : String(error) }];
  }

  function fetcher(params, options) {
    return fetcherFor(authorization(options && options.headers))(params, options);
  }

  var defaultQuery = [
    "# Sign in with tokenCreate, then put the token in",
    "# the Headers tab below (it also goes on the websocket):",
    '#   {"Authorization": "Bearer <accessToken>"}',
    "",
    "{",
    "  products(first: 3) {",
    "    edges { node { id name price { amount currency } } }",
    "  }",
    "}",
    "",
  ].join("\n");

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
    }),
  );
})();
