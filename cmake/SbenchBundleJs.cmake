# cmake -DDIR=<node_modules> -DOUT=<file> -P SbenchBundleJs.cmake: concatenates the minified Vega,
# Vega-Lite and vega-embed builds (in that order: each UMD bundle uses the globals of the ones
# before) and world-atlas's country outlines into the one file the HTML report inlines, with their
# versions and licences on top.
set(parts vega/build/vega.min.js vega-lite/build/vega-lite.min.js vega-embed/build/vega-embed.min.js)
set(header "/* Chart libraries of sbench's HTML report, fetched from npm at build time.\n")
foreach(pkg vega vega-lite vega-embed world-atlas)
  file(READ "${DIR}/${pkg}/package.json" meta)
  string(JSON version GET "${meta}" version)
  string(JSON license GET "${meta}" license)
  string(APPEND header " * ${pkg} ${version} (${license} licence, https://www.npmjs.com/package/${pkg})\n")
endforeach()
string(APPEND header " * world-atlas's countries-110m.json is Natural Earth's 1:110m countries (public domain).\n")
string(APPEND header " */\n")
file(WRITE "${OUT}.tmp" "${header}")
foreach(part ${parts})
  if(NOT EXISTS "${DIR}/${part}")
    message(FATAL_ERROR "${DIR}/${part} is missing: the npm install did not complete")
  endif()
  file(READ "${DIR}/${part}" text)
  file(APPEND "${OUT}.tmp" "${text}\n")
endforeach()
# The world's country outlines (TopoJSON) for the report's map, as a global.
file(READ "${DIR}/world-atlas/countries-110m.json" world)
file(APPEND "${OUT}.tmp" "window.sbenchWorld = ${world};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
