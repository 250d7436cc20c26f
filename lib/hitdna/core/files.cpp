#include "hitdna/core/files.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "hitdna/core/error.hpp"

namespace hitdna::core {

void write_file_atomically(const std::string& path, const std::string& content) {
    std::string tmpl = path + ".XXXXXX";
    const int fd = ::mkstemp(tmpl.data());
    if (fd < 0) throw Error(ErrorKind::io, path + ": cannot write: " + std::strerror(errno));
    size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int e = errno;
            ::close(fd);
            ::unlink(tmpl.c_str());
            throw Error(ErrorKind::io, path + ": cannot write: " + std::strerror(e));
        }
        done += size_t(n);
    }
    ::fchmod(fd, 0644);
    if (::close(fd) != 0 || std::rename(tmpl.c_str(), path.c_str()) != 0) {
        const int e = errno;
        ::unlink(tmpl.c_str());
        throw Error(ErrorKind::io, path + ": cannot write: " + std::strerror(e));
    }
}

}  // namespace hitdna::core
