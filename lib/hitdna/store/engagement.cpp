#include "hitdna/store/engagement.hpp"

#include <map>

#include "hitdna/store/detail/access.hpp"

namespace hitdna::store {

namespace {

EngagementTotals read_totals(Stmt& get) {
    return EngagementTotals{get.i64(0), get.i64(1), get.i64(3), get.i64(4), get.i64(5), get.f64(2), get.i64(6)};
}

const char* k_totals_sql = "SELECT events, plays, completed, likes, shares, skips, completion_plays FROM engagement WHERE track_id = ?1";

// Adds each track's delta to its totals and stores the score of the new totals.
void update_totals(Db& db, const std::map<int64_t, EngagementTotals>& delta, const std::string& now, const EngagementScorer& scorer) {
    Stmt up(db,
            "INSERT INTO engagement(track_id, events, plays, completed, completion_plays, likes, shares, skips, score, promoted, updated_at) "
            "VALUES (?1, ?2, ?3, ?4, ?9, ?5, ?6, ?7, 0, 0, ?8) ON CONFLICT(track_id) DO UPDATE SET events = events + ?2, plays = plays + ?3, "
            "completed = completed + ?4, completion_plays = completion_plays + ?9, likes = likes + ?5, shares = shares + ?6, "
            "skips = skips + ?7, updated_at = ?8");
    Stmt get(db, k_totals_sql);
    Stmt set(db, "UPDATE engagement SET score = ?2, promoted = ?3 WHERE track_id = ?1");
    for (const auto& [track, d] : delta) {
        up.bind(1, track).bind(2, d.events).bind(3, d.plays).bind(4, d.completed).bind(5, d.likes).bind(6, d.shares).bind(7, d.skips).bind(8, now);
        up.bind(9, d.completion_plays).run();
        get.bind(1, track);
        get.step();
        const EngagementTotals t = read_totals(get);
        get.reset();
        const EngagementScore e = scorer(t);
        set.bind(1, track).bind(2, e.score).bind(3, int64_t(e.promoted ? 1 : 0)).run();
    }
}

}  // namespace

AppendedEvents append_engagement(Catalog& cat, const std::vector<EngagementEvent>& events, const std::string& updated_at,
                                 const EngagementScorer& scorer) {
    auto& db = detail::db_of(cat);
    AppendedEvents r;
    WriteTransaction tx(db);
    Stmt ins(db,
             "INSERT OR IGNORE INTO engagement_events(event_id, track_id, generation_id, at, plays, completion, likes, shares, skips) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    std::map<int64_t, EngagementTotals> delta;
    for (const auto& e : events) {
        ins.bind(1, e.id).bind(2, e.track_id);
        if (e.generation_id.empty()) ins.bind_null(3);
        else ins.bind(3, e.generation_id);
        ins.bind(4, e.at).bind(5, e.plays).bind(6, e.completion).bind(7, e.likes).bind(8, e.shares).bind(9, e.skips).run();
        if (sqlite3_changes(db.handle()) != 1) {
            ++r.duplicates;
            continue;
        }
        ++r.applied;
        auto& d = delta[e.track_id];
        ++d.events;
        d.plays += e.plays;
        d.completed += double(e.plays) * e.completion.value_or(0.0);
        if (e.completion) d.completion_plays += e.plays;
        d.likes += e.likes;
        d.shares += e.shares;
        d.skips += e.skips;
    }
    update_totals(db, delta, updated_at, scorer);
    tx.commit();
    for (const auto& [track, d] : delta) r.tracks.insert(track);
    return r;
}

std::optional<EngagementTotals> engagement_totals(Catalog& cat, int64_t track_id) {
    Stmt get(detail::db_of(cat), k_totals_sql);
    get.bind(1, track_id);
    if (!get.step()) return std::nullopt;
    return read_totals(get);
}

std::optional<EngagementEvent> engagement_event(Catalog& cat, const std::string& event_id) {
    Stmt st(detail::db_of(cat), "SELECT event_id, track_id, coalesce(generation_id, ''), at, plays, completion, likes, shares, skips FROM engagement_events WHERE event_id = ?1");
    st.bind(1, event_id);
    if (!st.step()) return std::nullopt;
    EngagementEvent e;
    e.id = st.text(0);
    e.track_id = st.i64(1);
    e.generation_id = st.text(2);
    e.at = st.text(3);
    e.plays = st.i64(4);
    if (!st.is_null(5)) e.completion = st.f64(5);
    e.likes = st.i64(6);
    e.shares = st.i64(7);
    e.skips = st.i64(8);
    return e;
}

std::vector<EngagedTrack> engaged_tracks(Catalog& cat) {
    Stmt st(detail::db_of(cat), "SELECT track_id, plays, score, promoted FROM engagement WHERE plays > 0 ORDER BY track_id");
    std::vector<EngagedTrack> out;
    while (st.step()) out.push_back({st.i64(0), st.i64(1), st.f64(2), st.i64(3) != 0});
    return out;
}

int64_t engaged_track_count(Catalog& cat) {
    Stmt st(detail::db_of(cat), "SELECT count(*) FROM engagement WHERE plays > 0");
    return st.step() ? st.i64(0) : 0;
}

int64_t engagement_event_count(Catalog& cat) {
    Stmt st(detail::db_of(cat), "SELECT count(*) FROM engagement_events");
    return st.step() ? st.i64(0) : 0;
}

}  // namespace hitdna::store
