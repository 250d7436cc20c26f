#include "hitdna/store/detail/sqlite.hpp"

#include <cstring>

#include "hitdna/core/error.hpp"

namespace hitdna::store {

namespace {

// Before SQLite's first use: no global memory statistics. Every allocation would otherwise
// take one process-wide mutex, and connections on several threads (match --queries --jobs)
// would wait on each other there.
bool configure_sqlite() {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);  // SQLITE_MISUSE when already initialized: harmless
    return true;
}

}  // namespace

Db::Db(const std::string& path, Mode mode) : m_path(path) {
    static const bool configured = configure_sqlite();
    (void)configured;
    const int flags = mode == Mode::read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int rc = sqlite3_open_v2(path.c_str(), &m_db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = m_db ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc);
        sqlite3_close(m_db);
        m_db = nullptr;
        throw Error(ErrorKind::db, path + ": cannot open the database: " + msg);
    }
    sqlite3_extended_result_codes(m_db, 1);
    // Writers wait for each other instead of failing with "database is locked".
    sqlite3_busy_timeout(m_db, 120000);
}

Db::~Db() {
    for (auto& [sql, st] : m_kept) sqlite3_finalize(st);
    sqlite3_close_v2(m_db);
}

sqlite3_stmt* Db::take(const std::string& sql) {
    auto it = m_kept.find(sql);
    if (it == m_kept.end()) return nullptr;
    sqlite3_stmt* st = it->second;
    m_kept.erase(it);
    return st;
}

void Db::give_back(std::string&& sql, sqlite3_stmt* st) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (m_kept.size() >= k_kept) sqlite3_finalize(st);
    else m_kept.emplace(std::move(sql), st);
}

void Db::fail(const std::string& what, int rc) {
    std::string msg = sqlite3_errmsg(m_db);
    if (msg == "not an error" || msg.empty()) msg = sqlite3_errstr(rc);
    if ((rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR) msg += " (disk full or unwritable?); the transaction was rolled back";
    throw Error(ErrorKind::db, m_path + ": " + what + ": " + msg);
}

void Db::exec(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(m_db, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        if ((rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR) msg += " (disk full or unwritable?); the transaction was rolled back";
        throw Error(ErrorKind::db, m_path + ": " + msg);
    }
}

Stmt::Stmt(Db& db, const char* sql) : m_db(db), m_sql(sql) {
    if ((m_stmt = db.take(m_sql))) return;
    int rc = sqlite3_prepare_v3(db.handle(), sql, -1, SQLITE_PREPARE_PERSISTENT, &m_stmt, nullptr);
    if (rc != SQLITE_OK) db.fail("cannot prepare a statement", rc);
}

Stmt::~Stmt() {
    if (m_stmt) m_db.give_back(std::move(m_sql), m_stmt);
}

Stmt& Stmt::bind(int i, int64_t v) {
    if (int rc = sqlite3_bind_int64(m_stmt, i, v); rc != SQLITE_OK) m_db.fail("bind", rc);
    return *this;
}
Stmt& Stmt::bind(int i, double v) {
    if (int rc = sqlite3_bind_double(m_stmt, i, v); rc != SQLITE_OK) m_db.fail("bind", rc);
    return *this;
}
Stmt& Stmt::bind(int i, std::string_view v) {
    if (int rc = sqlite3_bind_text(m_stmt, i, v.data(), int(v.size()), SQLITE_TRANSIENT); rc != SQLITE_OK) m_db.fail("bind", rc);
    return *this;
}
Stmt& Stmt::bind_blob(int i, const void* data, size_t bytes) {
    if (int rc = sqlite3_bind_blob(m_stmt, i, data, int(bytes), SQLITE_TRANSIENT); rc != SQLITE_OK) m_db.fail("bind", rc);
    return *this;
}
Stmt& Stmt::bind_null(int i) {
    if (int rc = sqlite3_bind_null(m_stmt, i); rc != SQLITE_OK) m_db.fail("bind", rc);
    return *this;
}

bool Stmt::step() {
    int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    sqlite3_reset(m_stmt);
    m_db.fail("query failed", rc);
}

void Stmt::run() {
    while (step()) {
    }
    reset();
}

void Stmt::reset() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

std::string Stmt::text(int col) const {
    const auto* p = sqlite3_column_text(m_stmt, col);
    return p ? std::string(reinterpret_cast<const char*>(p), size_t(sqlite3_column_bytes(m_stmt, col))) : std::string();
}

std::string_view Stmt::text_view(int col) const {
    const auto* p = sqlite3_column_text(m_stmt, col);
    return p ? std::string_view(reinterpret_cast<const char*>(p), size_t(sqlite3_column_bytes(m_stmt, col))) : std::string_view();
}

std::pair<const void*, size_t> Stmt::blob(int col) const {
    const void* p = sqlite3_column_blob(m_stmt, col);
    return {p, size_t(sqlite3_column_bytes(m_stmt, col))};
}

std::vector<float> Stmt::floats(int col) const {
    const void* p = sqlite3_column_blob(m_stmt, col);
    size_t n = size_t(sqlite3_column_bytes(m_stmt, col)) / sizeof(float);
    std::vector<float> v(n);
    if (n) std::memcpy(v.data(), p, n * sizeof(float));
    return v;
}

WriteTransaction::WriteTransaction(Db& db) : m_db(db) { m_db.exec("BEGIN IMMEDIATE"); }

WriteTransaction::~WriteTransaction() {
    if (!m_done) sqlite3_exec(m_db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void WriteTransaction::commit() {
    m_db.exec("COMMIT");
    m_done = true;
}

}  // namespace hitdna::store
