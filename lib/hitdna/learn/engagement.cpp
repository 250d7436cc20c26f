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
#include "hitdna/core/text.hpp"
#include "hitdna/store/hash.hpp"
#include "hitdna/store/generations.hpp"
#include "hitdna/store/vector_index.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace hitdna::learn {

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
        if (!core::valid_utf8(line)) {
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

namespace {

// Resolves event track references (catalog id, generation id or audio file) to track ids,
// once per reference: unknown audio is analyzed and added (a generation's output as source
// generated, another file as source user); failures are kept with their reason.
class TrackResolver {
public:
    TrackResolver(store::Catalog& cat, const analysis::AnalyzeOptions& ao, int64_t& tracks_added) : m_cat(cat), m_ao(ao), m_added(tracks_added) {}

    // (track id, generation id); track id 0 when the reference could not be resolved.
    std::pair<int64_t, std::string> resolve(const std::string& ref) {
        if (auto it = m_cache.find(ref); it != m_cache.end()) return it->second;
        std::pair<int64_t, std::string> res{0, ""};
        try {
            res = resolve_uncached(ref);
        } catch (const Error& e) {
            m_error[ref] = e.what();
            res.first = 0;
        } catch (const std::out_of_range&) {
            m_error[ref] = "track id " + ref + " is out of range";
            res.first = 0;
        }
        m_cache[ref] = res;
        return res;
    }
    const std::string& error(const std::string& ref) { return m_error[ref]; }

private:
    std::pair<int64_t, std::string> resolve_uncached(const std::string& ref) {
        if (std::all_of(ref.begin(), ref.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
            const int64_t id = std::stoll(ref);
            if (!m_cat.track(id)) throw Error(ErrorKind::usage, "unknown track id " + ref);
            return {id, ""};
        }
        std::pair<int64_t, std::string> res{0, ""};
        std::string path = ref, hash;
        store::TrackMeta meta;
        if (ref.rfind("gen-", 0) == 0) {
            auto g = store::find_generation(m_cat, ref);
            if (!g) throw Error(ErrorKind::usage, "unknown generation id " + ref);
            path = g->output_path;
            hash = g->content_hash;
            res.second = ref;
            meta.source = "generated";
            meta.title = g->prompt.substr(0, 100);
            meta.artist = "hitdna";
        } else {
            if (!fs::exists(path)) throw Error(ErrorKind::io, path + ": no such file (a track is a catalog id, a generation id or an audio file)");
            hash = store::hash_file(path);
            meta.source = "user";
        }
        if (auto known = m_cat.find_by_hash(hash)) {
            res.first = known->id;
            return res;
        }
        if (!fs::exists(path)) throw Error(ErrorKind::io, path + ": the generation's audio is gone");
        if (store::hash_file(path) != hash) throw Error(ErrorKind::io, path + ": the generation's audio has changed since it was made");
        dna::Dna d = analysis::analyze_file(path, m_ao);
        res.first = m_cat.put_track(hash, fs::absolute(path).lexically_normal().string(), meta, d);
        ++m_added;
        return res;
    }

    store::Catalog& m_cat;
    const analysis::AnalyzeOptions& m_ao;
    int64_t& m_added;
    std::unordered_map<std::string, std::pair<int64_t, std::string>> m_cache;
    std::unordered_map<std::string, std::string> m_error;
};

store::EngagementScore score_for_store(const Totals& t) {
    const Engagement e = score(t);
    return {e.score, e.promoted};
}

}  // namespace

ApplyResult apply_events(store::Catalog& cat, const std::vector<Event>& events, const analysis::AnalyzeOptions& ao) {
    const auto t0 = std::chrono::steady_clock::now();
    ApplyResult r;
    TrackResolver resolver(cat, ao, r.tracks_added);
    // Every reference first: adding a track is a transaction of its own.
    for (const auto& e : events)
        if (check_event(e).empty()) resolver.resolve(e.track);
    // Appended in transactions of up to 20 000 events, each with the totals it changes.
    const std::string now = core::utc_timestamp();
    size_t i = 0;
    while (i < events.size()) {
        std::vector<store::EngagementEvent> batch;
        const size_t end = std::min(events.size(), i + 20000);
        for (; i < end; ++i) {
            const Event& e = events[i];
            if (auto bad = check_event(e); !bad.empty()) {
                r.problems.push_back({e.line, bad});
                continue;
            }
            auto [track, gen] = resolver.resolve(e.track);
            if (!track) {
                r.problems.push_back({e.line, resolver.error(e.track)});
                continue;
            }
            batch.push_back({e.id, track, gen, e.at.empty() ? now : e.at, e.plays, e.likes, e.shares, e.skips, e.completion});
        }
        const auto a = store::append_engagement(cat, batch, now, score_for_store);
        r.applied += a.applied;
        r.duplicates += a.duplicates;
        r.tracks.insert(a.tracks.begin(), a.tracks.end());
    }
    r.rejected = int64_t(r.problems.size());
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

std::optional<TrackEngagement> engagement_of(store::Catalog& cat, int64_t track_id) {
    auto totals = store::engagement_totals(cat, track_id);
    if (!totals) return std::nullopt;
    TrackEngagement te;
    te.track_id = track_id;
    te.totals = *totals;
    te.engagement = score(te.totals);
    return te;
}

FeedbackReport record_feedback(store::Catalog& cat, const std::vector<Event>& events, std::vector<Problem> problems,
                               const analysis::AnalyzeOptions& analyze, std::ostream& log) {
    FeedbackReport rep;
    rep.result = apply_events(cat, events, analyze);
    // Tracks added here are indexed like any ingested track.
    if (rep.result.tracks_added > 0) store::VectorIndexes(cat).update_all(log, "hitdna feedback");
    for (auto& p : rep.result.problems) problems.push_back(p);
    std::stable_sort(problems.begin(), problems.end(), [](const Problem& a, const Problem& b) { return a.line < b.line; });
    rep.problems = std::move(problems);
    for (int64_t id : rep.result.tracks) {
        if (rep.tracks.size() >= 1000) break;
        if (auto te = engagement_of(cat, id)) rep.tracks.push_back(*te);
    }
    return rep;
}

json to_json(const FeedbackReport& rep) {
    json j;
    j["applied"] = rep.result.applied;
    j["duplicates"] = rep.result.duplicates;
    j["rejected"] = rep.problems.size();
    j["tracks_added"] = rep.result.tracks_added;
    json tracks = json::array();
    for (const auto& te : rep.tracks)
        tracks.push_back({{"track_id", te.track_id}, {"plays", te.totals.plays}, {"events", te.totals.events},
                          {"score", std::round(te.engagement.score * 1000) / 1000}, {"promoted", te.engagement.promoted}});
    j["tracks"] = tracks;
    return j;
}

}  // namespace hitdna::learn
