#include "hitdna/learn/engagement.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "hitdna/core/clock.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/ingest/charts.hpp"
#include "hitdna/store/hash.hpp"
#include "hitdna/store/sqlite.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace hitdna::learn {

namespace {


}  // namespace

Engagement score(const Totals& t) {
    constexpr double m = 50, c0 = 0.5, l0 = 0.05, s0 = 0.01, k0 = 0.25;
    const double p = double(std::max<int64_t>(0, t.plays));
    Engagement e;
    e.completion = std::clamp((t.completed + m * c0) / (double(std::max<int64_t>(0, t.completion_plays)) + m), 0.0, 1.0);
    e.like_rate = std::clamp((double(t.likes) + m * l0) / (p + m), 0.0, 1.0);
    e.share_rate = std::clamp((double(t.shares) + m * s0) / (p + m), 0.0, 1.0);
    e.skip_rate = std::clamp((double(t.skips) + m * k0) / (p + m), 0.0, 1.0);
    e.score = 0.4 * e.completion + 0.25 * std::min(1.0, e.like_rate / 0.2) + 0.2 * std::min(1.0, e.share_rate / 0.05) + 0.15 * (1 - std::min(1.0, e.skip_rate));
    e.promoted = e.score >= k_promote_score && t.plays >= k_promote_plays;
    return e;
}

std::string check_event(const Event& e) {
    if (e.id.empty()) return "missing \"id\"";
    if (e.id.size() > 200) return "\"id\" longer than 200 characters";
    if (e.track.empty()) return "missing \"track\"";
    if (e.plays < 0 || e.likes < 0 || e.shares < 0 || e.skips < 0) return "counts must not be negative";
    if (e.completion && !(*e.completion >= 0 && *e.completion <= 1)) return "completion " + std::to_string(*e.completion) + " is outside 0..1";
    if (e.plays > 1000000000000LL || e.likes > 1000000000000LL || e.shares > 1000000000000LL || e.skips > 1000000000000LL) return "a count above 10^12";
    return "";
}

std::vector<Event> parse_events(std::istream& in, std::vector<Problem>& problems) {
    std::vector<Event> out;
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        if (!ingest::valid_utf8(line)) {
            problems.push_back({n, "not valid UTF-8"});
            continue;
        }
        json j = json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
            problems.push_back({n, "not a JSON object"});
            continue;
        }
        Event e;
        e.line = n;
        std::string bad;
        auto count = [&](const char* k, int64_t& dst) {
            if (!j.contains(k) || j[k].is_null()) return;
            if (!j[k].is_number_integer()) bad = std::string("\"") + k + "\" must be a whole number";
            else dst = j[k].get<int64_t>();
        };
        if (j.contains("id")) {
            if (j["id"].is_string()) e.id = j["id"].get<std::string>();
            else if (j["id"].is_number_integer()) e.id = std::to_string(j["id"].get<int64_t>());
            else bad = "\"id\" must be a string or an integer";
        }
        if (j.contains("track")) {
            if (j["track"].is_string()) e.track = j["track"].get<std::string>();
            else if (j["track"].is_number_integer()) e.track = std::to_string(j["track"].get<int64_t>());
            else bad = "\"track\" must be a track id, a generation id or a path";
        }
        count("plays", e.plays);
        count("likes", e.likes);
        count("shares", e.shares);
        count("skips", e.skips);
        if (j.contains("completion") && !j["completion"].is_null()) {
            if (!j["completion"].is_number()) bad = "\"completion\" must be a number in 0..1";
            else e.completion = j["completion"].get<double>();
        }
        if (j.contains("at") && j["at"].is_string()) e.at = j["at"].get<std::string>();
        if (bad.empty()) bad = check_event(e);
        if (!bad.empty()) {
            problems.push_back({n, bad});
            continue;
        }
        out.push_back(std::move(e));
    }
    return out;
}

ApplyResult apply_events(store::Catalog& cat, const std::vector<Event>& events, const analysis::AnalyzeOptions& ao) {
    const auto t0 = std::chrono::steady_clock::now();
    ApplyResult r;
    auto& db = cat.db();
    // ---- resolve tracks (cached per reference) ----
    std::unordered_map<std::string, std::pair<int64_t, std::string>> cache;  // ref -> (track id, generation id); id 0 = failed
    std::unordered_map<std::string, std::string> cache_error;
    auto resolve = [&](const std::string& ref) -> std::pair<int64_t, std::string> {
        if (auto it = cache.find(ref); it != cache.end()) return it->second;
        std::pair<int64_t, std::string> res{0, ""};
        try {
            if (std::all_of(ref.begin(), ref.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
                const int64_t id = std::stoll(ref);
                if (!cat.track(id)) throw Error(ErrorKind::usage, "unknown track id " + ref);
                res.first = id;
            } else {
                std::string path = ref, hash, prompt;
                store::TrackMeta meta;
                if (ref.rfind("gen-", 0) == 0) {
                    store::Stmt st(db, "SELECT output_path, content_hash, prompt FROM generations WHERE id = ?1");
                    st.bind(1, ref);
                    if (!st.step()) throw Error(ErrorKind::usage, "unknown generation id " + ref);
                    path = st.text(0);
                    hash = st.text(1);
                    prompt = st.text(2);
                    res.second = ref;
                    meta.source = "generated";
                    meta.title = prompt.substr(0, 100);
                    meta.artist = "hitdna";
                } else {
                    if (!fs::exists(path)) throw Error(ErrorKind::io, path + ": no such file (a track is a catalog id, a generation id or an audio file)");
                    hash = store::hash_file(path);
                    meta.source = "user";
                }
                if (auto known = cat.find_by_hash(hash)) {
                    res.first = known->id;
                } else {
                    if (!fs::exists(path)) throw Error(ErrorKind::io, path + ": the generation's audio is gone");
                    if (store::hash_file(path) != hash) throw Error(ErrorKind::io, path + ": the generation's audio has changed since it was made");
                    dna::Dna d = analysis::analyze_file(path, ao);
                    res.first = cat.put_track(hash, fs::absolute(path).lexically_normal().string(), meta, d);
                    ++r.tracks_added;
                }
            }
        } catch (const Error& e) {
            cache_error[ref] = e.what();
            res.first = 0;
        } catch (const std::out_of_range&) {
            cache_error[ref] = "track id " + ref + " is out of range";
            res.first = 0;
        }
        cache[ref] = res;
        return res;
    };
    // Every reference first: adding a track is a transaction of its own.
    for (const auto& e : events)
        if (check_event(e).empty()) resolve(e.track);
    // ---- append in batches, each with the totals it changes ----
    const std::string now = core::utc_timestamp();
    size_t i = 0;
    while (i < events.size()) {
        store::WriteTransaction tx(db);
        store::Stmt ins(db,
                        "INSERT OR IGNORE INTO engagement_events(event_id, track_id, generation_id, at, plays, completion, likes, shares, skips) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
        std::map<int64_t, Totals> delta;
        int64_t applied = 0, dups = 0;
        std::vector<Problem> problems;
        const size_t end = std::min(events.size(), i + 20000);
        for (; i < end; ++i) {
            const Event& e = events[i];
            if (auto bad = check_event(e); !bad.empty()) {
                problems.push_back({e.line, bad});
                continue;
            }
            auto [track, gen] = resolve(e.track);
            if (!track) {
                problems.push_back({e.line, cache_error[e.track]});
                continue;
            }
            ins.bind(1, e.id).bind(2, track);
            if (gen.empty()) ins.bind_null(3);
            else ins.bind(3, gen);
            ins.bind(4, e.at.empty() ? now : e.at).bind(5, e.plays).bind(6, e.completion).bind(7, e.likes).bind(8, e.shares).bind(9, e.skips).run();
            if (sqlite3_changes(db.handle()) == 1) {
                ++applied;
                auto& d = delta[track];
                ++d.events;
                d.plays += e.plays;
                d.completed += double(e.plays) * e.completion.value_or(0.0);
                if (e.completion) d.completion_plays += e.plays;
                d.likes += e.likes;
                d.shares += e.shares;
                d.skips += e.skips;
            } else {
                ++dups;
            }
        }
        store::Stmt up(db,
                       "INSERT INTO engagement(track_id, events, plays, completed, completion_plays, likes, shares, skips, score, promoted, updated_at) "
                       "VALUES (?1, ?2, ?3, ?4, ?9, ?5, ?6, ?7, 0, 0, ?8) ON CONFLICT(track_id) DO UPDATE SET events = events + ?2, plays = plays + ?3, "
                       "completed = completed + ?4, completion_plays = completion_plays + ?9, likes = likes + ?5, shares = shares + ?6, "
                       "skips = skips + ?7, updated_at = ?8");
        store::Stmt get(db, "SELECT events, plays, completed, likes, shares, skips, completion_plays FROM engagement WHERE track_id = ?1");
        store::Stmt set(db, "UPDATE engagement SET score = ?2, promoted = ?3 WHERE track_id = ?1");
        for (const auto& [track, d] : delta) {
            up.bind(1, track).bind(2, d.events).bind(3, d.plays).bind(4, d.completed).bind(5, d.likes).bind(6, d.shares).bind(7, d.skips).bind(8, now);
            up.bind(9, d.completion_plays).run();
            get.bind(1, track);
            get.step();
            Totals t{get.i64(0), get.i64(1), get.i64(3), get.i64(4), get.i64(5), get.f64(2), get.i64(6)};
            get.reset();
            const Engagement e = score(t);
            set.bind(1, track).bind(2, e.score).bind(3, int64_t(e.promoted ? 1 : 0)).run();
        }
        tx.commit();
        r.applied += applied;
        r.duplicates += dups;
        r.rejected += int64_t(problems.size());
        for (auto& p : problems) r.problems.push_back(std::move(p));
        for (const auto& [track, d] : delta) r.tracks.insert(track);
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

std::optional<TrackEngagement> engagement_of(store::Catalog& cat, int64_t track_id) {
    store::Stmt get(cat.db(), "SELECT events, plays, completed, likes, shares, skips, completion_plays FROM engagement WHERE track_id = ?1");
    get.bind(1, track_id);
    if (!get.step()) return std::nullopt;
    TrackEngagement te;
    te.totals = Totals{get.i64(0), get.i64(1), get.i64(3), get.i64(4), get.i64(5), get.f64(2), get.i64(6)};
    te.engagement = score(te.totals);
    return te;
}

}  // namespace hitdna::learn
