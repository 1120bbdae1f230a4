#!/usr/bin/env bash
# Rebuild the GraphQL explorer's vendored assets (infra/static/explorer/) from the npm registry.
# Run by a developer when upgrading GraphiQL, never at install or test time: the assets are
# committed, so GET /graphql works on a machine with no internet. Pin the versions here; the
# page (infra/explorer.py) names the files, and tests/infra/test_explorer_offline.py loads them
# in Chromium with every non-local request refused.
set -euo pipefail
GRAPHIQL=3.9.0
REACT=18.3.1
OUT="$(cd "$(dirname "$0")/../static/explorer" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null
for tgz in *.tgz; do mkdir -p "${tgz%.tgz}" && tar xzf "$tgz" -C "${tgz%.tgz}"; done
# The source-map comment would make a browser's developer tools ask for a file we do not ship.
sed '$ s#^//\# sourceMappingURL=.*$##' "graphiql-$GRAPHIQL/package/graphiql.min.js" > "$OUT/graphiql.min.js"
cp "graphiql-$GRAPHIQL/package/graphiql.min.css" "$OUT/graphiql.min.css"
cp "react-$REACT/package/umd/react.production.min.js" "$OUT/react.production.min.js"
cp "react-dom-$REACT/package/umd/react-dom.production.min.js" "$OUT/react-dom.production.min.js"
{
  echo "Vendored by infra/scripts/vendor-explorer.sh from the npm registry; MIT licensed:"
  echo "graphiql $GRAPHIQL, react $REACT, react-dom $REACT."
  echo
  for pkg in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT"; do
    echo "== ${pkg} =="; cat "$pkg/package/LICENSE"; echo
  done
} > "$OUT/LICENSES.txt"
(cd "$OUT" && sha256sum graphiql.min.js graphiql.min.css react.production.min.js \
  react-dom.production.min.js > SHA256SUMS)
echo "vendor-explorer: wrote $OUT"
