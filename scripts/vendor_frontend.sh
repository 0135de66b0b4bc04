#!/usr/bin/env bash
# Vendors the chart page's front-end libraries into dashboard/static/vendor/ from the npm
# registry, so the page needs no CDN at run time (the machines reach no network but the
# registries). Re-run after changing a pinned version below; it replaces the whole folder.
#   bash scripts/vendor_frontend.sh
# Needs node + npm. Leaves no package.json / node_modules in the repo: npm installs into a
# temporary prefix, and only the dist files and licences are copied out.
set -euo pipefail

# Pinned versions: change here, re-run, commit the result.
CHARTJS_VERSION=4.6.1          # Chart.js 4.x: global `Chart`
CHARTJS_GEO_VERSION=4.3.6      # chartjs-chart-geo (peer chart.js ^4.1.0): global `ChartGeo`
WORLD_ATLAS_VERSION=2.0.2      # world-atlas 2.x: TopoJSON, ids are ISO 3166-1 numeric strings
ATLAS_FILE=countries-110m.json # 110m holds all twenty PISA countries (checked below)

# The twenty source countries (ISO 3166-1 numeric) the map must be able to colour.
REQUIRED_IDS="008 032 036 040 056 100 070 112 076 096 124 756 152 170 188 203 276 208 214 724"

cd "$(dirname "$0")/.."
REPO=$PWD
DEST=dashboard/static/vendor

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "Installing chart.js@$CHARTJS_VERSION chartjs-chart-geo@$CHARTJS_GEO_VERSION world-atlas@$WORLD_ATLAS_VERSION into $TMP"
# --ignore-scripts: we only want the published files, never run install hooks.
# Run from $TMP so npm never looks at (or writes) anything in the repo.
(cd "$TMP" && npm install --prefix "$TMP" --no-save --ignore-scripts --no-audit --no-fund \
    --no-package-lock --loglevel=error \
    "chart.js@$CHARTJS_VERSION" "chartjs-chart-geo@$CHARTJS_GEO_VERSION" \
    "world-atlas@$WORLD_ATLAS_VERSION" >/dev/null)
NM=$TMP/node_modules

# The npm versions must be exactly the pins (a typo'd pin would fail above, a range must not slip in).
pkgver() { node -p "require('$NM/$1/package.json').version"; }
pkglic() { node -p "require('$NM/$1/package.json').license"; }
for pair in "chart.js:$CHARTJS_VERSION" "chartjs-chart-geo:$CHARTJS_GEO_VERSION" "world-atlas:$WORLD_ATLAS_VERSION"; do
    got=$(pkgver "${pair%%:*}")
    [ "$got" = "${pair#*:}" ] || { echo "error: ${pair%%:*} installed $got, pinned ${pair#*:}" >&2; exit 1; }
done

# Build the new folder beside the install, then swap it in whole: idempotent, and a failed
# run leaves the old vendor folder untouched.
STAGE=$TMP/vendor
mkdir -p "$STAGE/chart.js" "$STAGE/chartjs-chart-geo" "$STAGE/world-atlas"

# Chart.js: the UMD build defines window.Chart. 4.x ships chart.umd.min.js in later releases
# and only chart.umd.js (already minified) in earlier ones; take whichever exists.
CHART_SRC=$NM/chart.js/dist/chart.umd.min.js
[ -f "$CHART_SRC" ] || CHART_SRC=$NM/chart.js/dist/chart.umd.js
cp "$CHART_SRC" "$STAGE/chart.js/chart.umd.min.js"
cp "$NM/chart.js/LICENSE.md" "$STAGE/chart.js/LICENSE.md"

# chartjs-chart-geo: the UMD build is self-contained (it bundles d3-geo, d3-array, d3-color,
# d3-interpolate, d3-scale-chromatic and topojson-client) and needs only window.Chart.
# Files are flattened out of build/ because the repo's .gitignore ignores any build/ folder.
cp "$NM/chartjs-chart-geo/build/index.umd.min.js" "$STAGE/chartjs-chart-geo/index.umd.min.js"
cp "$NM/chartjs-chart-geo/LICENSE" "$STAGE/chartjs-chart-geo/LICENSE"
# The bundled d3/topojson code is ISC, whose notice must travel with it; take the texts from the
# same packages npm installed as chartjs-chart-geo's dependencies.
BUNDLED="d3-array d3-color d3-geo d3-interpolate d3-scale-chromatic topojson-client"
for dep in $BUNDLED; do
    cp "$NM/$dep/LICENSE" "$STAGE/chartjs-chart-geo/LICENSE.$dep"
done

# world-atlas: only the one TopoJSON the page loads.
cp "$NM/world-atlas/$ATLAS_FILE" "$STAGE/world-atlas/$ATLAS_FILE"
cp "$NM/world-atlas/LICENSE" "$STAGE/world-atlas/LICENSE"

# The map is useless if a source country has no shape: fail rather than vendor such an atlas.
node -e '
const w = require(process.argv[1]);
const have = new Set(w.objects.countries.geometries.map((g) => g.id));
const missing = process.argv.slice(2).filter((id) => !have.has(id));
if (missing.length) { console.error("error: missing from atlas: " + missing.join(" ")); process.exit(1); }
console.log("Atlas check: all " + (process.argv.length - 2) + " required country ids present");
' "$STAGE/world-atlas/$ATLAS_FILE" $REQUIRED_IDS

# The geo UMD must still expect the global Chart and expose ChartGeo (the page relies on both).
grep -q 'ChartGeo={},e.Chart,e.Chart.helpers\|ChartGeo = {}, global.Chart, global.Chart.helpers' \
    "$STAGE/chartjs-chart-geo/index.umd.min.js" \
    || { echo "error: chartjs-chart-geo UMD no longer defines ChartGeo from window.Chart" >&2; exit 1; }

sha() { sha256sum "$1" | cut -c1-16; }
row() { # package version file licence
    echo "| $1 | $2 | \`$3\` | $4 | \`$(sha "$STAGE/$3")\` |"
}
{
    echo "# Vendored front-end libraries"
    echo
    echo "Copied unmodified from the npm registry by \`scripts/vendor_frontend.sh\`; do not edit by hand."
    echo
    echo "| package | version | file | licence (SPDX) | sha256 (first 16) |"
    echo "| --- | --- | --- | --- | --- |"
    row chart.js "$CHARTJS_VERSION" chart.js/chart.umd.min.js "$(pkglic chart.js)"
    row chart.js "$CHARTJS_VERSION" chart.js/LICENSE.md "$(pkglic chart.js)"
    row chartjs-chart-geo "$CHARTJS_GEO_VERSION" chartjs-chart-geo/index.umd.min.js "$(pkglic chartjs-chart-geo)"
    row chartjs-chart-geo "$CHARTJS_GEO_VERSION" chartjs-chart-geo/LICENSE "$(pkglic chartjs-chart-geo)"
    for dep in $BUNDLED; do
        row "$dep (bundled in chartjs-chart-geo)" "licence text from $(pkgver "$dep")" "chartjs-chart-geo/LICENSE.$dep" "$(pkglic "$dep")"
    done
    row world-atlas "$WORLD_ATLAS_VERSION" "world-atlas/$ATLAS_FILE" "$(pkglic world-atlas)"
    row world-atlas "$WORLD_ATLAS_VERSION" world-atlas/LICENSE "$(pkglic world-atlas)"
    echo
    echo "- chartjs-chart-geo's UMD build bundles d3-geo, d3-array, d3-color, d3-interpolate,"
    echo "  d3-scale-chromatic and topojson-client, so nothing else is needed. Their licence texts come"
    echo "  from the versions npm resolved as its dependencies (the bundled code may be a patch release"
    echo "  older). d3-geo's LICENSE also carries GeographicLib's MIT notice, and d3-scale-chromatic's"
    echo "  the Apache-2.0 notice of the ColorBrewer schemes."
    echo "- world-atlas data derives from Natural Earth (public domain); feature ids are ISO 3166-1"
    echo "  numeric codes as zero-padded strings (\"008\" = Albania); a few disputed areas have no id."
    echo "- The .min.js files end with a \`sourceMappingURL\` comment; the .map files are not vendored"
    echo "  (browser dev tools may log a 404 for them, nothing else is affected)."
    echo
    echo "Load order in a page: \`chart.js/chart.umd.min.js\` (window.Chart), then"
    echo "\`chartjs-chart-geo/index.umd.min.js\` (window.ChartGeo; registers the choropleth and"
    echo "bubbleMap controllers and their scales with Chart on load)."
    echo
    echo "## Refresh"
    echo
    echo "Change the pinned versions at the top of the script, then:"
    echo
    echo '```'
    echo "bash scripts/vendor_frontend.sh"
    echo '```'
} >"$STAGE/VERSIONS.md"

# Swap in: replace the vendor folder's contents entirely.
rm -rf "$REPO/$DEST"
mkdir -p "$(dirname "$REPO/$DEST")"
cp -R "$STAGE" "$REPO/$DEST"

echo "Vendored into $DEST:"
(cd "$REPO/$DEST" && find . -type f | sort | while read -r f; do
    printf '  %9d  %s\n' "$(stat -c %s "$f")" "${f#./}"
done)
