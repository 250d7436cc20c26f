#include "hitdna/store/hash.hpp"

#include <xxhash.h>

#include <algorithm>
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

std::string stamp_file(const std::string& path) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) throw Error(ErrorKind::io, path + ": cannot read: " + std::strerror(errno));
    if (std::fseek(f.get(), 0, SEEK_END) != 0) throw Error(ErrorKind::io, path + ": cannot seek: " + std::strerror(errno));
    const long size = std::ftell(f.get());
    constexpr long part = 64 * 1024;
    std::vector<char> buf(size_t(std::min(size, 2 * part)) + sizeof size);
    std::memcpy(buf.data(), &size, sizeof size);
    size_t got = 0;
    std::rewind(f.get());
    if (size <= 2 * part) {
        got = std::fread(buf.data() + sizeof size, 1, size_t(size), f.get());
    } else {
        got = std::fread(buf.data() + sizeof size, 1, size_t(part), f.get());
        if (std::fseek(f.get(), size - part, SEEK_SET) != 0) throw Error(ErrorKind::io, path + ": cannot seek: " + std::strerror(errno));
        got += std::fread(buf.data() + sizeof size + part, 1, size_t(part), f.get());
    }
    if (got + sizeof size != buf.size()) throw Error(ErrorKind::io, path + ": read error");
    return hex(XXH3_128bits(buf.data(), buf.size()));
}

}  // namespace hitdna::store
