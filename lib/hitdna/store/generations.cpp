#include "hitdna/store/generations.hpp"

#include "hitdna/core/clock.hpp"
#include "hitdna/store/detail/access.hpp"

namespace hitdna::store {

std::string record_generation(Catalog& cat, const std::string& prompt, const std::string& backend, const std::string& output_path,
                              const std::string& content_hash, std::optional<double> score, const std::string& record_json) {
    auto& db = detail::db_of(cat);
    WriteTransaction tx(db);
    std::string id;
    {
        Stmt st(db, "SELECT 'gen-' || lower(hex(randomblob(8)))");
        st.step();
        id = st.text(0);
    }
    Stmt ins(db, "INSERT INTO generations(id, created_at, prompt, backend, output_path, content_hash, score, record) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    ins.bind(1, id).bind(2, core::utc_timestamp()).bind(3, prompt).bind(4, backend).bind(5, output_path).bind(6, content_hash).bind(7, score).bind(8, record_json).run();
    tx.commit();
    return id;
}

std::optional<Generation> find_generation(Catalog& cat, const std::string& id) {
    Stmt st(detail::db_of(cat), "SELECT id, created_at, prompt, backend, output_path, content_hash, score, record FROM generations WHERE id = ?1");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    Generation g;
    g.id = st.text(0);
    g.created_at = st.text(1);
    g.prompt = st.text(2);
    g.backend = st.text(3);
    g.output_path = st.text(4);
    g.content_hash = st.text(5);
    if (!st.is_null(6)) g.score = st.f64(6);
    g.record_json = st.text(7);
    return g;
}

}  // namespace hitdna::store
