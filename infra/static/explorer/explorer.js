// Starts GraphiQL against the page's own URL (POST /graphql). A file rather than an inline
// script, so the page's Content-Security-Policy can allow scripts from this hub alone.
(function () {
  var fetcher = GraphiQL.createFetcher({url: window.location.pathname});
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {fetcher: fetcher}));
})();
