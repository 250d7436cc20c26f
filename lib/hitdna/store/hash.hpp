#pragma once
// Content ids: XXH3-128 (libxxhash) as 32 hex digits. Fast (>10 GB/s) and collision-safe for
// deduplication; not a cryptographic hash.
#include <cstddef>
#include <string>

namespace hitdna::store {

// Hash of a file's bytes; throws Error(io) naming the file.
std::string hash_file(const std::string& path);
std::string hash_bytes(const void* data, size_t n);
// A cheap stamp of a file: XXH3-128 of its size and its first and last 64 KiB (the whole file
// when smaller). Catches a truncated, replaced or rewritten file at the cost of two reads;
// damage in the middle takes hash_file.
std::string stamp_file(const std::string& path);

}  // namespace hitdna::store
