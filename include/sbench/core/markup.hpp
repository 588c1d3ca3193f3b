// Escaping text for HTML and XML (the report's page, GDAL's VRT documents).
#pragma once

#include <string>
#include <string_view>

namespace sbench {

// &, <, > and " as entities: safe in element text and in double-quoted attributes.
std::string escape_markup(std::string_view text);

}  // namespace sbench
