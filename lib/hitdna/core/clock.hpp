#pragma once
#include <string>

namespace hitdna::core {

// The current time as ISO 8601 UTC with seconds ("2026-11-30T15:14:05Z"), as stored in the catalog.
std::string utc_timestamp();

}  // namespace hitdna::core
