#include "hitdna/core/shared_library.hpp"

#include <dlfcn.h>

#include "hitdna/core/error.hpp"

namespace hitdna::core {

SharedLibrary::SharedLibrary(const std::string& soname, const std::string& purpose, const std::string& package) : m_soname(soname) {
    m_handle = ::dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!m_handle) {
        const char* why = ::dlerror();
        throw Error(ErrorKind::internal, "cannot load " + soname + ", needed for " + purpose + " (Debian package " + package + "): " + (why ? why : "unknown reason"));
    }
}

void* SharedLibrary::address(const char* name) const {
    ::dlerror();
    void* p = ::dlsym(m_handle, name);
    if (!p) throw Error(ErrorKind::internal, m_soname + " has no function " + name + " (another version than hitdna was built with?)");
    return p;
}

}  // namespace hitdna::core
