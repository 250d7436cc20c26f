#include "hitdna/store/hash.hpp"

#include <xxhash.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "hitdna/core/error.hpp"

namespace hitdna::store {

namespace {

std::string hex(XXH128_hash_t h) {
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (unsigned char b : c.digest) s += digits[b >> 4], s += digits[b & 15];
    return s;
}

}  // namespace

std::string hash_file(const std::string& path) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) throw Error(ErrorKind::io, path + ": cannot read: " + std::strerror(errno));
    std::unique_ptr<XXH3_state_t, XXH_errorcode (*)(XXH3_state_t*)> st(XXH3_createState(), &XXH3_freeState);
    XXH3_128bits_reset(st.get());
    std::vector<char> buf(1 << 20);
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) XXH3_128bits_update(st.get(), buf.data(), n);
    if (std::ferror(f.get())) throw Error(ErrorKind::io, path + ": read error: " + std::strerror(errno));
    return hex(XXH3_128bits_digest(st.get()));
}

std::string hash_bytes(const void* data, size_t n) { return hex(XXH3_128bits(data, n)); }

}  // namespace hitdna::store
