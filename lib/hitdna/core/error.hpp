#pragma once
// One error family for the whole library (STYLE.md, convention 3).
#include <stdexcept>
#include <string>

namespace hitdna {

enum class ErrorKind { usage, io, decode, db, index, network, timeout, remote, internal };

// Exit code documented in man/hitdna.1 for each kind.
int exit_code_for(ErrorKind kind) noexcept;
const char* to_string(ErrorKind kind) noexcept;

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message)
        : std::runtime_error(message), m_kind(kind) {}
    ErrorKind kind() const noexcept { return m_kind; }

private:
    ErrorKind m_kind;
};

}  // namespace hitdna
