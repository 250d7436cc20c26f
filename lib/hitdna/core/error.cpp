#include "hitdna/core/error.hpp"

namespace hitdna {

int exit_code_for(ErrorKind kind) noexcept {
    switch (kind) {
        case ErrorKind::usage: return 2;
        case ErrorKind::io: return 3;
        case ErrorKind::decode: return 4;
        case ErrorKind::db: return 5;
        case ErrorKind::index: return 5;
        case ErrorKind::network: return 6;
        case ErrorKind::timeout: return 6;
        case ErrorKind::remote: return 7;
        case ErrorKind::internal: return 70;
    }
    return 70;
}

const char* to_string(ErrorKind kind) noexcept {
    switch (kind) {
        case ErrorKind::usage: return "usage";
        case ErrorKind::io: return "io";
        case ErrorKind::decode: return "decode";
        case ErrorKind::db: return "db";
        case ErrorKind::index: return "index";
        case ErrorKind::network: return "network";
        case ErrorKind::timeout: return "timeout";
        case ErrorKind::remote: return "remote";
        case ErrorKind::internal: return "internal";
    }
    return "internal";
}

}  // namespace hitdna
