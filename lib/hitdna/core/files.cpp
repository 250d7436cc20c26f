#include "hitdna/core/files.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

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

AtomicFile::AtomicFile(std::string path) : m_path(std::move(path)), m_tmp(m_path + ".XXXXXX") {
    const int fd = ::mkstemp(m_tmp.data());
    if (fd < 0) throw Error(ErrorKind::io, m_path + ": cannot write: " + std::strerror(errno));
    ::fchmod(fd, 0644);
    ::close(fd);
    m_out.open(m_tmp, std::ios::binary | std::ios::trunc);
    if (!m_out) {
        const int e = errno;
        ::unlink(m_tmp.c_str());
        throw Error(ErrorKind::io, m_path + ": cannot write: " + std::strerror(e));
    }
}

AtomicFile::~AtomicFile() {
    if (!m_done) ::unlink(m_tmp.c_str());
}

void AtomicFile::commit() {
    m_out.flush();
    const bool ok = m_out.good();
    const int e = errno;
    m_out.close();
    if (!ok || m_out.fail()) throw Error(ErrorKind::io, m_path + ": cannot write: " + std::strerror(ok ? errno : e));
    if (std::rename(m_tmp.c_str(), m_path.c_str()) != 0) throw Error(ErrorKind::io, m_path + ": cannot write: " + std::strerror(errno));
    m_done = true;
}

}  // namespace hitdna::core
