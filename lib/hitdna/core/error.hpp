#pragma once
// One error family for the whole library: every layer that gives up throws Error with a kind
// and a message naming the file or track; apps/hitdna/main.cpp maps kinds to exit codes.
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
