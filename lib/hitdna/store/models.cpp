#include "hitdna/store/models.hpp"

#include "hitdna/store/detail/access.hpp"

namespace hitdna::store {

namespace {

// Made with the first model (catalogs without models do not have it).
const char* k_models_ddl =
    "CREATE TABLE IF NOT EXISTS pattern_models(version INTEGER PRIMARY KEY AUTOINCREMENT, fitted_at TEXT NOT NULL, "
    "n_tracks INTEGER NOT NULL, model TEXT NOT NULL) STRICT";

}  // namespace

int64_t save_model(Catalog& cat, const std::string& fitted_at, int64_t n_tracks, const std::string& model_json) {
    auto& db = detail::db_of(cat);
    WriteTransaction tx(db);
    db.exec(k_models_ddl);
    Stmt ins(db, "INSERT INTO pattern_models(fitted_at, n_tracks, model) VALUES (?1, ?2, ?3)");
    ins.bind(1, fitted_at).bind(2, n_tracks).bind(3, model_json).run();
    const int64_t version = db.last_insert_rowid();
    tx.commit();
    return version;
}

std::optional<StoredModel> latest_model(Catalog& cat) {
    auto& db = detail::db_of(cat);
    {
        // No model was ever saved in this catalog.
        Stmt t(db, "SELECT count(*) FROM sqlite_master WHERE name = 'pattern_models'");
        if (!t.step() || t.i64(0) == 0) return std::nullopt;
    }
    Stmt st(db, "SELECT version, fitted_at, model FROM pattern_models ORDER BY version DESC LIMIT 1");
    if (!st.step()) return std::nullopt;
    return StoredModel{st.i64(0), st.text(1), st.text(2)};
}

}  // namespace hitdna::store
