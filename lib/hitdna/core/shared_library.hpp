#pragma once
// A shared library opened when first needed (dlopen), so that a process that never plays a
// sketch, calls a remote service or fits a boosted model does not load libfluidsynth, libcurl
// or libxgboost and the ~75 libraries they bring: linked, they made every start (`hitdna
// --version`) take 16 ms instead of 3.5 ms on the 2-core machine.
#include <string>
#include <type_traits>

namespace hitdna::core {

class SharedLibrary {
public:
    // Opens `soname` (RTLD_NOW | RTLD_LOCAL); throws Error(internal) naming it, what it is
    // needed for (`purpose`), the Debian package that has it and the loader's reason. The
    // library stays loaded until the process ends (it may have left threads, handlers or
    // memory that outlive any object of ours).
    SharedLibrary(const std::string& soname, const std::string& purpose, const std::string& package);
    SharedLibrary(const SharedLibrary&) = delete;
    SharedLibrary& operator=(const SharedLibrary&) = delete;

    // The address of `name`, as a pointer to F (a function type); throws when it is missing.
    template <class F>
    F* function(const char* name) const {
        return reinterpret_cast<F*>(address(name));
    }

private:
    void* address(const char* name) const;
    void* m_handle = nullptr;
    std::string m_soname;
};

}  // namespace hitdna::core

// Inside a struct holding a SharedLibrary `lib`: a member `member` pointing at the library's
// function `name`, typed by its declaration in the library's header (the _AS form for names
// the header also defines as macros, as curl's type-checking curl_easy_setopt).
#define HITDNA_LIBRARY_FUNCTION_AS(member, name) decltype(&::name) member = lib.function<std::remove_pointer_t<decltype(&::name)>>(#name)
#define HITDNA_LIBRARY_FUNCTION(name) HITDNA_LIBRARY_FUNCTION_AS(name, name)
