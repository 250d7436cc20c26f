#pragma once
// Private to store/ (nothing else includes SQLite): a thin RAII layer over the SQLite C API,
// a connection, prepared statements, transactions.
// Every failure becomes hitdna::Error(db) naming the database file and SQLite's message.
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <string_view>
#include <utility>
#include <vector>

namespace hitdna::store {

class Db;

class Stmt {
public:
    Stmt(Db& db, const char* sql);
    ~Stmt();
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    Stmt(Stmt&& o) noexcept : m_db(o.m_db), m_stmt(o.m_stmt), m_sql(std::move(o.m_sql)) { o.m_stmt = nullptr; }

    Stmt& bind(int i, int64_t v);
    Stmt& bind(int i, int v) { return bind(i, int64_t(v)); }
    Stmt& bind(int i, double v);
    Stmt& bind(int i, std::string_view v);
    Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
    Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
    Stmt& bind_blob(int i, const void* data, size_t bytes);
    Stmt& bind_null(int i);
    template <class T>
    Stmt& bind(int i, const std::optional<T>& v) { return v ? bind(i, *v) : bind_null(i); }

    // Steps once: true when a row is available.
    bool step();
    // Steps until done (statements without results).
    void run();
    void reset();

    int64_t i64(int col) const { return sqlite3_column_int64(m_stmt, col); }
    double f64(int col) const { return sqlite3_column_double(m_stmt, col); }
    bool is_null(int col) const { return sqlite3_column_type(m_stmt, col) == SQLITE_NULL; }
    std::string text(int col) const;
    std::vector<float> floats(int col) const;  // a BLOB of float32
    // Views valid until the next step: text, and a BLOB's bytes (not aligned for its type).
    std::string_view text_view(int col) const;
    std::pair<const void*, size_t> blob(int col) const;

private:
    Db& m_db;
    sqlite3_stmt* m_stmt = nullptr;
    std::string m_sql;  // the key it goes back to the connection's kept statements under
};

class Db {
public:
    enum class Mode { read_only, read_write };
    Db(const std::string& path, Mode mode);
    ~Db();
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    void exec(const char* sql);
    sqlite3* handle() { return m_db; }
    const std::string& path() const { return m_path; }
    int64_t last_insert_rowid() { return sqlite3_last_insert_rowid(m_db); }
    [[noreturn]] void fail(const std::string& what, int rc);

private:
    friend class Stmt;
    // Prepared statements kept for reuse, by their SQL: a Stmt takes one (or prepares it) and
    // gives it back reset, so it holds no snapshot. Preparing was a tenth of a match query's
    // time. At most k_kept: statements with generated SQL (filters) come and go.
    static constexpr size_t k_kept = 64;
    sqlite3_stmt* take(const std::string& sql);
    void give_back(std::string&& sql, sqlite3_stmt* st);
    std::unordered_multimap<std::string, sqlite3_stmt*> m_kept;
    sqlite3* m_db = nullptr;
    std::string m_path;
};

// BEGIN IMMEDIATE .. COMMIT; rolls back when destroyed without commit().
class WriteTransaction {
public:
    explicit WriteTransaction(Db& db);
    ~WriteTransaction();
    void commit();

private:
    Db& m_db;
    bool m_done = false;
};

// BEGIN .. COMMIT for reads: every statement in between sees one snapshot (WAL) while
// writers go on.
class ReadTransaction {
public:
    // Inside a transaction already open on the connection, it is that transaction's snapshot.
    explicit ReadTransaction(Db& db) : m_db(db), m_own(sqlite3_get_autocommit(db.handle()) != 0) {
        if (m_own) m_db.exec("BEGIN");
    }
    ~ReadTransaction() {
        if (m_own) sqlite3_exec(m_db.handle(), "COMMIT", nullptr, nullptr, nullptr);
    }
    ReadTransaction(const ReadTransaction&) = delete;
    ReadTransaction& operator=(const ReadTransaction&) = delete;

private:
    Db& m_db;
    bool m_own;
};

}  // namespace hitdna::store
