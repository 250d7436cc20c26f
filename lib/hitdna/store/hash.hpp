#pragma once
// Content ids: XXH3-128 (libxxhash) as 32 hex digits. Fast (>10 GB/s) and collision-safe for
// deduplication; not a cryptographic hash.
#include <cstddef>
#include <string>

namespace hitdna::store {

// Hash of a file's bytes; throws Error(io) naming the file.
std::string hash_file(const std::string& path);
std::string hash_bytes(const void* data, size_t n);

}  // namespace hitdna::store
