# The chart libraries of the HTML report (Vega, Vega-Lite, vega-embed): installed from npm with the
# versions pinned in report/package-lock.json and bundled into share/sbench/vega-bundle.js in the
# build tree, where `sbench eval --report` finds them (docs/report.md). Without npm the build still
# works and --report says what to install.
find_program(SBENCH_NPM npm)
set(SBENCH_REPORT_JS_FILE ${CMAKE_BINARY_DIR}/share/sbench/vega-bundle.js)
if(SBENCH_NPM)
  set(js_dir ${CMAKE_BINARY_DIR}/report-js)
  add_custom_command(
    OUTPUT ${SBENCH_REPORT_JS_FILE}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${js_dir} ${CMAKE_BINARY_DIR}/share/sbench
    COMMAND ${CMAKE_COMMAND} -E copy ${PROJECT_SOURCE_DIR}/report/package.json
            ${PROJECT_SOURCE_DIR}/report/package-lock.json ${js_dir}/
    COMMAND ${SBENCH_NPM} ci --prefix ${js_dir} --no-audit --no-fund --loglevel=error
    COMMAND ${CMAKE_COMMAND} -DDIR=${js_dir}/node_modules -DOUT=${SBENCH_REPORT_JS_FILE} -P
            ${PROJECT_SOURCE_DIR}/cmake/SbenchBundleJs.cmake
    DEPENDS ${PROJECT_SOURCE_DIR}/report/package.json ${PROJECT_SOURCE_DIR}/report/package-lock.json
            ${PROJECT_SOURCE_DIR}/cmake/SbenchBundleJs.cmake
    COMMENT "Fetching Vega, Vega-Lite and vega-embed from npm for the HTML report"
    VERBATIM)
  add_custom_target(sbench_report_js ALL DEPENDS ${SBENCH_REPORT_JS_FILE})
  install(FILES ${SBENCH_REPORT_JS_FILE} DESTINATION share/sbench)
else()
  message(WARNING "npm not found: `sbench eval --report` will say that the chart libraries are missing")
endif()
