#include "hitdna/match/match.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <limits>
#include <ostream>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "hitdna/core/error.hpp"
#include "hitdna/learn/model.hpp"
#include "hitdna/qdrant/filter.hpp"
#include "hitdna/qdrant/search.hpp"
#include "hitdna/store/sync_state.hpp"

namespace hitdna::match {

using dna::is_track_space;
using dna::Space;

namespace {

double space_score(float dist2, size_t dim) { return std::exp(-double(dist2) / (2.0 * double(std::max<size_t>(1, dim)))); }

struct Query {
    std::string kind;
    std::map<Space, std::vector<float>> track_vecs;
    std::vector<std::pair<QuerySection, std::vector<float>>> sections;
    std::unordered_set<int64_t> exclude;
    std::string fts;      // any of the words (FTS5 OR)
    std::string fts_all;  // every word (FTS5 AND): when some track has them all, only those count
    std::vector<std::string> resolved;
};

std::vector<float> mean_of(const std::vector<std::vector<float>>& xs) {
    if (xs.empty()) return {};
    std::vector<float> m(xs.front().size(), 0.0f);
    for (const auto& x : xs)
        for (size_t i = 0; i < m.size() && i < x.size(); ++i) m[i] += x[i] / float(xs.size());
    return m;
}

void add_catalog_track(store::Catalog& cat, int64_t id, std::map<Space, std::vector<std::vector<float>>>& acc, Query& q) {
    for (Space s : dna::k_spaces) {
        auto vs = cat.vectors_of(id, s);
        if (s == Space::sections) {
            for (auto& v : vs) q.sections.push_back({QuerySection{v.section.start_s, v.section.end_s}, std::move(v.data)});
        } else if (!vs.empty()) {
            acc[s].push_back(std::move(vs.front().data));
        }
    }
}

store::TrackRow resolve_track(store::Catalog& cat, const std::string& ref, std::ostream& warn) {
    bool digits = !ref.empty() && std::all_of(ref.begin(), ref.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (digits) {
        if (auto t = cat.track(std::stoll(ref))) return *t;
        throw Error(ErrorKind::usage, "--track " + ref + ": no track with that id in " + cat.path());
    }
    auto found = cat.find_by_name(ref);
    if (found.empty()) throw Error(ErrorKind::usage, "--track '" + ref + "': no track with that name in " + cat.path() + " (try 'Artist - Title' or an id)");
    if (found.size() > 1)
        warn << "hitdna: warning: --track '" << ref << "' names " << found.size() << " tracks; using id " << found.front().id << "\n";
    return found.front();
}

// Words of a text query: lower case, letters, digits and inner hyphens.
std::vector<std::string> words_of(const std::string& s) {
    std::vector<std::string> out;
    std::string w;
    auto flush = [&] {
        while (!w.empty() && w.back() == '-') w.pop_back();
        if (!w.empty()) out.push_back(w);
        w.clear();
    };
    for (unsigned char c : s) {
        if (std::isalnum(c) || c >= 0x80) w += char(std::tolower(c));
        else if (c == '-' && !w.empty()) w += '-';
        else flush();
    }
    flush();
    return out;
}

Query build_text_query(store::Catalog& cat, const std::string& text, std::ostream& warn) {
    Query q;
    q.kind = "text";
    std::string rest;
    std::vector<std::string> titles;
    // Quoted titles: "..." or “...”.
    for (size_t i = 0; i < text.size();) {
        bool curly = text.compare(i, 3, "\xe2\x80\x9c") == 0;
        if (text[i] == '"' || curly) {
            size_t start = i + (curly ? 3 : 1);
            size_t end = curly ? text.find("\xe2\x80\x9d", start) : text.find('"', start);
            if (end == std::string::npos) end = text.size();
            titles.push_back(text.substr(start, end - start));
            i = end + (curly ? 3 : 1);
        } else {
            rest += text[i++];
        }
    }
    std::map<Space, std::vector<std::vector<float>>> title_acc;
    std::vector<std::string> fts_words;
    for (const auto& t : titles) {
        auto found = cat.find_by_name(t);
        if (found.empty()) {
            warn << "hitdna: warning: no track titled '" << t << "' in the catalog; its words are searched as text\n";
            for (auto& w : words_of(t)) fts_words.push_back(w);
            continue;
        }
        for (const auto& tr : found) {
            add_catalog_track(cat, tr.id, title_acc, q);
            q.exclude.insert(tr.id);
            q.resolved.push_back("title: " + tr.artist + " - " + tr.title + " (id " + std::to_string(tr.id) + ")");
        }
    }
    // Descriptor words move the query toward the tracks the analyzer described with them.
    std::map<Space, std::vector<std::vector<float>>> desc_acc;
    for (const auto& w : words_of(rest)) {
        fts_words.push_back(w);
        auto ids = cat.tracks_with_descriptor(w);
        if (ids.empty()) continue;
        q.resolved.push_back("descriptor: " + w + " (" + std::to_string(ids.size()) + " tracks)");
        if (ids.size() > 2000) ids.resize(2000);
        std::map<Space, std::vector<std::vector<float>>> one;
        for (int64_t id : ids)
            for (Space s : dna::k_spaces)
                if (is_track_space(s))
                    if (auto vs = cat.vectors_of(id, s); !vs.empty()) one[s].push_back(std::move(vs.front().data));
        for (auto& [s, xs] : one) desc_acc[s].push_back(mean_of(xs));
    }
    for (Space s : dna::k_spaces) {
        if (!is_track_space(s)) continue;
        auto t = mean_of(title_acc[s]);
        auto c = mean_of(desc_acc[s]);
        if (!t.empty() && !c.empty()) {
            auto mu = cat.stats(s).mean;
            for (size_t i = 0; i < t.size(); ++i) t[i] += 0.5f * (c[i] - float(mu[i]));
            q.track_vecs[s] = t;
        } else if (!t.empty()) {
            q.track_vecs[s] = t;
        } else if (!c.empty()) {
            q.track_vecs[s] = c;
        }
    }
    for (const auto& w : fts_words) {
        std::string quoted = "\"";
        for (char c : w) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
        q.fts += (q.fts.empty() ? "" : " OR ") + quoted + "\"";
        q.fts_all += (q.fts_all.empty() ? "" : " AND ") + quoted + "\"";
    }
    return q;
}

// A stored vector as the ranker reads it: its standardized values and its section. Valid until
// the backend's next vectors() call.
struct VectorRef {
    const float* data = nullptr;
    size_t size = 0;
    const store::SectionInfo* section = nullptr;
};

void refs_of(const std::vector<store::StoredVector>& vs, std::vector<VectorRef>& out) {
    for (const auto& v : vs) out.push_back({v.data.data(), v.data.size(), &v.section});
}

// Where candidates and their vectors come from: the embedded indexes over the catalog, or a
// Qdrant collection made by `hitdna sync qdrant`. Scores are computed here, the same way for both.
class Backend {
public:
    virtual ~Backend() = default;
    virtual std::vector<float> standardize(Space s, const std::vector<float>& raw) = 0;
    // Track ids and squared standardized distances of the k nearest stored vectors (inside the
    // filter), nearest first.
    virtual std::vector<std::pair<int64_t, double>> nearest(Space s, const std::vector<float>& raw, size_t k) = 0;
    // The spaces a query is about to search: a backend may open them now, at once.
    virtual void open(const std::vector<Space>& /*spaces*/) {}
    // The nearest() calls that come next, each space's queries with their k: a backend may run
    // their index reads ahead, at once, so that the calls find them done.
    virtual void read_ahead(const std::map<Space, std::vector<std::vector<float>>>& /*queries*/, const std::map<Space, size_t>& /*k*/) {}
    virtual void prefetch(const std::vector<int64_t>& ids, const std::vector<Space>& spaces) = 0;
    // Standardized vectors of a track in a space (sections: all, in order), into `out`.
    virtual void vectors(int64_t id, Space s, std::vector<VectorRef>& out) = 0;
    virtual std::optional<store::TrackRow> row(int64_t id) = 0;
    // Called before each query of a session with the catalog's generation (a cache of vectors
    // must not outlive a change of the catalog).
    virtual void begin_query(int64_t /*generation*/) {}
};

class EmbeddedBackend : public Backend {
public:
    EmbeddedBackend(store::Catalog& cat, const store::Filter& filter, std::ostream& warn, store::IndexAccess access,
                    std::shared_ptr<store::ResidentVectors> resident)
        : m_cat(cat), m_indexes(cat), m_filter(filter), m_warn(warn), m_access(access), m_shared(std::move(resident)) {
        m_indexes.set_access(access);
    }
    // The space's searcher, reading its hits from the resident vectors of this query's
    // generation when the session shares some.
    store::SpaceSearcher& searcher(Space s) {
        auto& se = m_searchers[s];
        if (!se) se = std::make_unique<store::SpaceSearcher>(m_indexes, s, &m_warn);
        if (m_shared && !m_resident.count(s)) {
            auto& res = m_resident[s];
            res = m_shared->get(s, m_generation, se->mean(), se->sd());
            se->use_resident(res);
        }
        return *se;
    }
    const store::ResidentSpace* resident(Space s) {
        searcher(s);
        auto it = m_resident.find(s);
        return it == m_resident.end() ? nullptr : it->second.get();
    }
    std::vector<float> standardize(Space s, const std::vector<float>& raw) override { return searcher(s).standardize(raw); }
    std::vector<std::pair<int64_t, double>> nearest(Space s, const std::vector<float>& raw, size_t k) override {
        std::vector<std::pair<int64_t, double>> out;
        for (const auto& h : searcher(s).search(raw, k, m_filter)) out.emplace_back(h.track_id, h.dist2);
        return out;
    }
    // A single query opens its spaces' index files at once (SpaceSearcher::open), for the
    // reason below; a batch opens them once for all its queries.
    void open(const std::vector<Space>& spaces) override {
        if (m_access != store::IndexAccess::read) return;
        std::vector<Space> closed;
        for (Space s : spaces)
            if (!m_searchers.count(s)) closed.push_back(s);
        if (closed.size() < 2) return;
        for (auto& [s, se] : store::SpaceSearcher::open(m_indexes, closed, &m_warn)) m_searchers[s] = std::move(se);
    }
    // A single query (records read as visited, not mapped) waits on the index files' reads,
    // one graph step after another, when they are not in the page cache: the round's searches
    // run at once, on up to k_read_ahead_threads threads, so that their waits overlap
    // (SpaceSearcher::warm). The calls that follow are answered from the index's recent lists:
    // the same answers. Not with a filter (its planner reads the catalog) nor in a batch (its
    // jobs use the cores).
    void read_ahead(const std::map<Space, std::vector<std::vector<float>>>& queries, const std::map<Space, size_t>& k) override {
        if (m_access != store::IndexAccess::read || !m_filter.empty()) return;
        struct Item {
            const store::SpaceSearcher* searcher;
            const std::vector<float>* query;
            size_t k;
        };
        std::vector<Item> items;
        for (const auto& [s, qs] : queries) {
            const auto* se = &searcher(s);  // opened here: opening reads the catalog
            for (const auto& q : qs) items.push_back({se, &q, k.at(s)});
        }
        if (items.size() < 2) return;
        // The space with the most searches (a track's sections) first: it takes longest.
        std::stable_sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
            return queries.at(a.searcher->space()).size() > queries.at(b.searcher->space()).size();
        });
        std::atomic<size_t> next{0};
        auto work = [&] {
            for (size_t i; (i = next.fetch_add(1)) < items.size();) items[i].searcher->warm(*items[i].query, items[i].k);
        };
        std::vector<std::thread> threads;
        for (size_t t = 1; t < std::min(items.size(), k_read_ahead_threads); ++t) threads.emplace_back(work);
        work();
        for (auto& t : threads) t.join();
    }
    // The candidates' standardized vectors, in one batched read for those not read before (a
    // prepared statement per track was most of a query's time). They stay for the session's
    // next queries (match --queries: a candidate of one query is often one of another's) while
    // they fit in k_cache_bytes, and go when the catalog's generation moves.
    void prefetch(const std::vector<int64_t>& ids, const std::vector<Space>& spaces) override {
        // A catalog whose candidates outgrow the cache keeps one query's at a time (a cache
        // emptied and refilled made 2 000 queries at 100 000 tracks slower than none).
        if (m_bytes > k_cache_bytes) m_overflowed = true;
        if (m_overflowed) clear_cache();
        std::vector<Space> to_read;  // the spaces not held resident
        for (Space s : spaces) {
            const auto* res = resident(s);
            if (!res) {
                to_read.push_back(s);
                continue;
            }
            // Resident: the candidates' rows are asked for before the first is scored, so that
            // their cache misses overlap instead of following each other.
            for (int64_t id : ids) {
                const auto [first, last] = res->rows_of_track(id);
                if (first == last) continue;
                const char* p = reinterpret_cast<const char*>(res->data(first));
                const size_t n = (last - first) * res->dim() * sizeof(float);
                for (size_t b = 0; b < n; b += 64) __builtin_prefetch(p + b);
            }
        }
        if (to_read.empty()) return;
        std::vector<int64_t> missing;
        for (int64_t id : ids)
            for (Space s : to_read)
                if (!m_vectors[s].count(id)) {
                    missing.push_back(id);
                    break;
                }
        if (missing.empty()) return;
        // A single query's candidates are read with three readers ahead when the catalog's pages
        // come from the disk (most of a cold query's time is these random page reads); a
        // batch's jobs already use the cores.
        const unsigned readers = m_access == store::IndexAccess::read && missing.size() >= 64 ? 3 : 0;
        auto read = m_cat.vectors_of_tracks(missing, to_read, readers);
        for (Space s : to_read) {
            auto& cache = m_vectors[s];
            auto& got = read[s];
            for (int64_t id : missing) {
                auto it = got.find(id);
                auto& vs = cache[id];  // empty: the track has none in this space
                if (it == got.end()) continue;
                vs = std::move(it->second);
                for (auto& v : vs) {
                    v.data = searcher(s).standardize(v.data);
                    m_bytes += k_vector_overhead + v.data.size() * sizeof(float);
                }
            }
        }
    }
    void vectors(int64_t id, Space s, std::vector<VectorRef>& out) override {
        out.clear();
        if (const auto* res = resident(s)) {
            const auto [first, last] = res->rows_of_track(id);
            for (size_t row = first; row < last; ++row) out.push_back({res->data(row), res->dim(), &res->section(row)});
            return;
        }
        if (auto c = m_vectors.find(s); c != m_vectors.end())
            if (auto it = c->second.find(id); it != c->second.end()) return refs_of(it->second, out);
        m_scratch = m_cat.vectors_of(id, s);
        for (auto& v : m_scratch) v.data = searcher(s).standardize(v.data);
        refs_of(m_scratch, out);
    }
    void begin_query(int64_t generation) override {
        if (generation != m_generation) {
            clear_cache();
            m_resident.clear();
            for (auto& [s, se] : m_searchers) se->use_resident(nullptr);
        }
        // Spaces not resident yet (loading) are asked for again.
        std::erase_if(m_resident, [](const auto& kv) { return !kv.second; });
        m_generation = generation;
    }
    std::optional<store::TrackRow> row(int64_t id) override { return m_cat.track(id); }

private:
    store::Catalog& m_cat;
    store::VectorIndexes m_indexes;
    store::Filter m_filter;
    std::ostream& m_warn;
    store::IndexAccess m_access;
    std::map<Space, std::unique_ptr<store::SpaceSearcher>> m_searchers;
    std::shared_ptr<store::ResidentVectors> m_shared;
    std::map<Space, std::shared_ptr<const store::ResidentSpace>> m_resident;  // null: read the catalog
    // 64 MiB, counting what a stored vector costs besides its floats (its section, the
    // containers' nodes): about 3 kB a track of 8 sections, so some 20 000 such tracks.
    static constexpr size_t k_cache_bytes = size_t(64) << 20, k_vector_overhead = 128;
    // Searches of a single query's round run at once on this many threads at most: they wait
    // on the disk, not the cores.
    static constexpr size_t k_read_ahead_threads = 8;
    std::map<Space, std::unordered_map<int64_t, std::vector<store::StoredVector>>> m_vectors;
    std::vector<store::StoredVector> m_scratch;
    size_t m_bytes = 0;
    bool m_overflowed = false;
    int64_t m_generation = -1;
    void clear_cache() {
        m_vectors.clear();
        m_bytes = 0;
    }
};

class QdrantBackend : public Backend {
public:
    QdrantBackend(store::Catalog* cat, const MatchOptions& o, const store::Filter& filter, std::ostream& warn)
        : m_cat(cat), m_client(o.qdrant), m_search(m_client, o.collection), m_filter(qdrant::to_filter(filter)), m_exact(o.exact) {
        if (!cat) return;
        if (m_search.catalog_id() != cat->catalog_id())
            throw Error(ErrorKind::usage, "collection '" + o.collection + "' at " + o.qdrant.url + " mirrors another catalog than " + cat->path() +
                                              " (hitdna sync qdrant --recreate, or another --collection)");
        // A mirror behind its catalog still answers, with a warning.
        const int64_t synced = store::synced_generation(*cat, m_search.epoch()).value_or(-1);
        const int64_t gen = cat->generation();
        if (synced < gen)
            warn << "hitdna: warning: collection '" << o.collection << "' is behind the catalog (synced at generation " << synced << ", catalog at " << gen
                 << "); run 'hitdna sync qdrant'\n";
        // Scores equal the embedded backend's only with the same standardization.
        const int64_t theirs = m_search.stats_count(), ours = cat->stats(Space::audio).count;
        if (std::abs(double(theirs - ours)) > 0.1 * double(std::max<int64_t>(ours, 1)))
            warn << "hitdna: warning: collection '" << o.collection << "' standardizes with the statistics of " << theirs << " tracks, the catalog has " << ours
                 << "; scores differ from --backend embedded until 'hitdna sync qdrant --full'\n";
    }
    std::vector<float> standardize(Space s, const std::vector<float>& raw) override { return m_search.standardize(s, raw); }
    std::vector<std::pair<int64_t, double>> nearest(Space s, const std::vector<float>& raw, size_t k) override {
        std::vector<std::pair<int64_t, double>> out;
        for (const auto& h : m_search.nearest(s, m_search.standardize(s, raw), k, m_filter, m_exact)) out.emplace_back(h.track_id, h.dist2);
        return out;
    }
    void prefetch(const std::vector<int64_t>& ids, const std::vector<Space>& spaces) override {
        bool tracks = true, sections = false;
        for (Space s : spaces) (is_track_space(s) ? tracks : sections) = true;
        if (tracks) m_tracks = m_search.tracks(ids);
        if (sections) m_sections = m_search.sections(ids);
    }
    void vectors(int64_t id, Space s, std::vector<VectorRef>& out) override {
        out.clear();
        if (s == Space::sections) {
            if (auto it = m_sections.find(id); it != m_sections.end()) refs_of(it->second, out);
            return;
        }
        auto it = m_tracks.find(id);
        if (it == m_tracks.end() || !it->second.vectors.count(s)) return;
        const auto& v = it->second.vectors.at(s);
        out.push_back({v.data(), v.size(), &m_no_section});
    }
    std::optional<store::TrackRow> row(int64_t id) override {
        if (m_cat)
            if (auto r = m_cat->track(id)) return r;
        auto it = m_tracks.find(id);
        if (it == m_tracks.end()) return std::nullopt;
        return it->second.row;
    }

private:
    store::Catalog* m_cat;
    qdrant::Client m_client;
    qdrant::CollectionSearch m_search;
    nlohmann::json m_filter;
    bool m_exact;
    std::map<int64_t, qdrant::TrackPoint> m_tracks;
    std::map<int64_t, std::vector<store::StoredVector>> m_sections;
    const store::SectionInfo m_no_section;
};

float dist2(const std::vector<float>& a, const VectorRef& b) {
    float d = 0;
    for (size_t i = 0; i < std::min(a.size(), b.size); ++i) d += (a[i] - b.data[i]) * (a[i] - b.data[i]);
    return d;
}

}  // namespace

std::map<Space, double> default_weights(const std::string& kind) {
    if (kind == "like")
        // Audio may be an excerpt, whose length, arcs and structure are its own, not its
        // song's: what the music sounds like (the sections space) carries the decision.
        return {{Space::audio, 0.5}, {Space::structure, 0.0}, {Space::emotion, 0.25}, {Space::production, 0.5}, {Space::sections, 4.0}};
    return {{Space::audio, 1.0}, {Space::structure, 1.0}, {Space::emotion, 1.0}, {Space::production, 1.0}, {Space::sections, 1.0}};
}

namespace {

Query audio_query(const MatchOptions& o, const dna::Dna* analyzed) {
    Query q;
    q.kind = "like";
    const dna::Dna d = analyzed ? *analyzed : analysis::analyze_file(o.like_file, o.analyze);
    q.track_vecs[Space::audio] = d.vectors.audio;
    q.track_vecs[Space::structure] = d.vectors.structure;
    q.track_vecs[Space::emotion] = d.vectors.emotion;
    q.track_vecs[Space::production] = d.vectors.production;
    for (size_t i = 0; i < d.vectors.sections.size() && i < d.structure.sections.size(); ++i)
        q.sections.push_back({QuerySection{d.structure.sections[i].start_s, d.structure.sections[i].end_s}, d.vectors.sections[i]});
    if (d.structure.sections.size() != 1) q.sections.push_back({QuerySection{0, d.duration_s}, d.vectors.whole});
    q.resolved.push_back("audio: " + o.like_file);
    return q;
}

Query track_query(store::Catalog& cat, const std::string& ref, std::ostream& warn) {
    Query q;
    q.kind = "track";
    auto tr = resolve_track(cat, ref, warn);
    std::map<Space, std::vector<std::vector<float>>> acc;
    add_catalog_track(cat, tr.id, acc, q);
    for (auto& [s, xs] : acc) q.track_vecs[s] = xs.front();
    q.exclude.insert(tr.id);
    q.resolved.push_back("track: " + tr.artist + " - " + tr.title + " (id " + std::to_string(tr.id) + ")");
    return q;
}

// The spaces that take part, and their weights (into rep.weights).
std::vector<Space> plan_spaces(const Query& q, const MatchOptions& o, std::map<Space, double>& weights, MatchReport& rep) {
    std::vector<Space> spaces = o.spaces;
    if (spaces.empty()) spaces.assign(dna::k_spaces.begin(), dna::k_spaces.end());
    // Only the spaces the query has vectors for take part.
    spaces.erase(std::remove_if(spaces.begin(), spaces.end(),
                                [&](Space s) { return is_track_space(s) ? !q.track_vecs.count(s) : q.sections.empty(); }),
                 spaces.end());
    weights = default_weights(q.kind);
    for (auto& [s, w] : o.weights) weights[s] = w;
    // A space weighted 0 takes no part (unless it is the only one asked for).
    if (spaces.size() > 1)
        spaces.erase(std::remove_if(spaces.begin(), spaces.end(), [&](Space s) { return weights[s] <= 0; }), spaces.end());
    for (Space s : spaces) {
        if (weights[s] <= 0) weights[s] = 1;
        rep.weights[s] = weights[s];
    }
    return spaces;
}

// One query run: candidates from every space (and the text index), scored exactly.
class Ranker {
public:
    Ranker(Backend& backend, const Query& q, const std::vector<Space>& spaces, const std::map<Space, double>& weights)
        : m_backend(backend), m_q(q), m_spaces(spaces), m_weights(weights) {}

    // Every candidate scored exactly, combined per track.
    // Without text, candidates come in rounds (Fagin's threshold algorithm): each space's
    // nearest vectors, 2k (at least 20) per track space and 10k (at least 100) shared by the
    // query's sections in the first round, four times as many in each next one, until the
    // k-th best combined score reaches what a track not yet seen could still score (the
    // weighted mean of each space's score at the depth reached), every list is exhausted, or
    // a search would bring more than `breadth` (default: four times the first round's). When
    // the threshold is reached, the top k is the top k of scoring every track (as far as the
    // indexes' recall goes). With text there is one round (its breadth below).
    std::vector<MatchResult> rank(store::Catalog* catalog, const store::Filter& filter, size_t k, size_t breadth) {
        m_backend.open(m_spaces);
        for (Space s : m_spaces) {
            if (is_track_space(s)) m_zq[s] = m_backend.standardize(s, m_q.track_vecs.at(s));
            else
                for (const auto& [qs, v] : m_q.sections) m_zsections.push_back({qs, m_backend.standardize(s, v)});
        }
        const size_t nsec = std::max<size_t>(1, m_q.sections.size());
        const bool rounds = m_q.fts.empty();
        // A text query's one round: 5k (at least 50) per track space, 20k (at least 100) per
        // query section.
        size_t kc = rounds ? std::max<size_t>(20, 2 * k) : std::max<size_t>(50, 5 * k);
        size_t ks = rounds ? std::max(k, (std::max<size_t>(100, 10 * k) + nsec - 1) / nsec) : std::max<size_t>(100, 20 * k);
        const size_t cap_c = breadth ? breadth : 4 * kc, cap_s = breadth ? breadth : 4 * ks;
        if (breadth) kc = std::min(kc, breadth), ks = std::min(ks, breadth);
        const size_t text_breadth = std::max<size_t>(50, 5 * k);
        std::set<int64_t> round;
        if (!m_q.fts.empty()) {
            // No evidence, no row: tracks that carry every word of the text, when there are
            // any; else those that carry some (the filter applies inside the text search too).
            auto hits = catalog->text_search(m_q.fts_all, 500, filter);
            if (hits.empty()) hits = catalog->text_search(m_q.fts, 500, filter);
            double best = 0;
            for (auto& [id, r] : hits) best = std::min(best, r);
            for (auto& [id, r] : hits) {
                m_text_rel[id] = best < 0 ? std::clamp(r / best, 0.0, 1.0) : 1.0;
                if (m_spaces.empty() || m_text_rel.size() <= text_breadth) round.insert(id);
            }
        }
        std::vector<MatchResult> all;
        std::unordered_set<int64_t> seen(m_q.exclude.begin(), m_q.exclude.end());
        std::vector<double> best;  // combined scores so far, for the k-th
        for (;;) {
            double wsum = 0, bound = 0;
            bool exhausted = true;
            read_ahead(kc, ks);
            for (Space s : m_spaces) {
                const size_t dim = dna::dimensions(s).size();
                double space_bound = 0;  // the best score a track not yet listed can have here
                auto list = [&](const std::vector<float>& v, size_t n) {
                    const auto hits = m_backend.nearest(s, v, n);
                    for (const auto& [id, d2] : hits) round.insert(id);
                    if (hits.size() >= n) {
                        exhausted = false;
                        space_bound = std::max(space_bound, space_score(float(hits.back().second), dim));
                    }
                };
                if (is_track_space(s)) list(m_q.track_vecs.at(s), kc);
                else
                    for (const auto& [qs, v] : m_q.sections) list(v, ks);
                bound += m_weights.at(s) * space_bound;
                wsum += m_weights.at(s);
            }
            std::vector<int64_t> fresh;
            for (int64_t id : round)
                if (seen.insert(id).second) fresh.push_back(id);
            round.clear();
            m_backend.prefetch(fresh, m_spaces);
            for (int64_t id : fresh)
                if (auto r = score_one(id)) {
                    best.push_back(r->score);
                    all.push_back(std::move(*r));
                }
            if (!rounds) break;
            if (exhausted || wsum <= 0) {
                m_complete = true;
                break;
            }
            if (best.size() >= k) {
                std::nth_element(best.begin(), best.begin() + long(k - 1), best.end(), std::greater<>());
                if (best[k - 1] >= bound / wsum) {
                    m_complete = true;
                    break;
                }
            }
            if (kc * 4 > cap_c && ks * 4 > cap_s) break;
            kc = std::min(kc * 4, cap_c), ks = std::min(ks * 4, cap_s);
        }
        return all;
    }

    // Whether the last rank() reached the threshold or exhausted every list.
    bool complete() const { return m_complete; }

private:
    // The round's searches (kc per track space, ks per query section), announced to the backend.
    void read_ahead(size_t kc, size_t ks) {
        std::map<Space, std::vector<std::vector<float>>> queries;
        std::map<Space, size_t> k;
        for (Space s : m_spaces) {
            if (is_track_space(s)) queries[s].push_back(m_q.track_vecs.at(s)), k[s] = kc;
            else if (!m_q.sections.empty()) {
                for (const auto& [qs, v] : m_q.sections) queries[s].push_back(v);
                k[s] = ks;
            }
        }
        m_backend.read_ahead(queries, k);
    }

    std::optional<MatchResult> score_one(int64_t id) {
        MatchResult r;
        r.track.id = id;
        double wsum = 0, acc = 0;
        for (Space s : m_spaces) {
            auto& vs = m_refs;
            m_backend.vectors(id, s, vs);
            if (vs.empty()) continue;
            double sc = 0;
            if (is_track_space(s)) {
                sc = space_score(dist2(m_zq[s], vs.front()), dna::dimensions(s).size());
            } else {
                // The best pair is the nearest: one exp for it.
                float best = std::numeric_limits<float>::infinity();
                const store::SectionInfo* best_section = nullptr;
                for (const auto& [qs, qv] : m_zsections)
                    for (const auto& v : vs)
                        if (const float d = dist2(qv, v); d < best) best = d, best_section = v.section, r.query_section = qs;
                if (best_section) r.section = *best_section;
                if (!m_zsections.empty()) sc = space_score(best, dna::dimensions(s).size());
            }
            r.space_scores[s] = sc;
            acc += m_weights.at(s) * sc;
            wsum += m_weights.at(s);
        }
        // A text hit the vector backend has no vectors for (not synced yet) is not ranked on text alone.
        if (!m_spaces.empty() && wsum == 0) return std::nullopt;
        double vec = wsum > 0 ? acc / wsum : 0;
        if (!m_q.fts.empty()) {
            auto it = m_text_rel.find(id);
            r.text_score = it == m_text_rel.end() ? 0.0 : it->second;
            if (wsum == 0 && it == m_text_rel.end()) return std::nullopt;  // nothing the query asked
            r.score = wsum > 0 ? 0.8 * vec + 0.2 * *r.text_score : *r.text_score;
        } else {
            r.score = vec;
        }
        if (m_q.kind != "like") r.query_section.reset();
        return r;
    }

    Backend& m_backend;
    const Query& m_q;
    const std::vector<Space>& m_spaces;
    const std::map<Space, double>& m_weights;
    std::unordered_map<int64_t, double> m_text_rel;
    bool m_complete = false;
    std::map<Space, std::vector<float>> m_zq;
    std::vector<std::pair<QuerySection, std::vector<float>>> m_zsections;
    std::vector<VectorRef> m_refs;  // a candidate's vectors in one space
};

// --boost learned: score x (0.75 + 0.25 x hit score), when a calibrated model exists.
void boost_learned(store::Catalog* catalog, std::vector<MatchResult>& all, std::ostream& warn) {
    if (!catalog) {
        warn << "hitdna: warning: --boost learned needs the catalog's pattern weights; results are not re-ranked\n";
        return;
    }
    auto model = learn::latest(*catalog);
    if (!model) {
        warn << "hitdna: warning: --boost learned: no pattern weights yet (hitdna learn); results are not re-ranked\n";
        return;
    }
    if (const std::string stale = learn::stale_reason(*model, *catalog); !stale.empty()) warn << "hitdna: warning: " << stale << "\n";
    for (auto& r : all) {
        auto f = learn::features_of_track(*catalog, r.track.id);
        if (f.empty()) continue;
        r.hit_score = learn::predict(*model, f, false).hit_score;
        if (r.hit_score) r.score *= 0.75 + 0.25 * *r.hit_score;
    }
}

void check_options(const MatchOptions& o) {
    const int kinds = int(!o.like_file.empty()) + int(!o.track.empty()) + int(!o.text.empty());
    if (kinds != 1) throw Error(ErrorKind::usage, "give exactly one of --like FILE, --track ID|\"Artist - Title\", --text \"...\"");
    if (o.k == 0) throw Error(ErrorKind::usage, "-k must be at least 1");
    if (o.backend != "embedded" && o.backend != "qdrant") throw Error(ErrorKind::usage, "--backend '" + o.backend + "': embedded or qdrant");
}

}  // namespace

struct Session::Impl {
    store::Catalog* catalog;
    std::ostream& warn;
    store::IndexAccess access;
    std::shared_ptr<store::ResidentVectors> resident;
    // Backends by what makes them differ (kind, filter, collection): their opened indexes
    // and searchers serve every query that shares them.
    std::map<std::string, std::unique_ptr<Backend>> backends;
    Backend& backend(const MatchOptions& o, const store::Filter& filter, bool remote) {
        std::string key = remote ? "qdrant\n" + o.qdrant.url + "\n" + o.collection + "\n" + (o.exact ? "exact" : "") : "embedded";
        for (const auto& f : o.filters) key += "\n" + f;
        auto& b = backends[key];
        if (!b) {
            if (remote) b = std::make_unique<QdrantBackend>(catalog, o, filter, warn);
            else b = std::make_unique<EmbeddedBackend>(*catalog, filter, warn, access, resident);
        }
        return *b;
    }
};

Session::Session(store::Catalog* catalog, std::ostream& warn, store::IndexAccess access, std::shared_ptr<store::ResidentVectors> resident)
    : m_impl(std::make_unique<Impl>(Impl{catalog, warn, access, std::move(resident), {}})) {}
Session::~Session() = default;

MatchReport Session::run(const MatchOptions& o, const dna::Dna* like) {
    store::Catalog* catalog = m_impl->catalog;
    std::ostream& warn = m_impl->warn;
    check_options(o);
    const store::Filter filter = store::parse_filter(o.filters);
    if (!catalog && (o.backend != "qdrant" || o.like_file.empty()))
        throw Error(ErrorKind::usage, "this query needs the catalog (only --like with --backend qdrant runs without one)");
    const Query q = !o.like_file.empty() ? audio_query(o, like) : !o.track.empty() ? track_query(*catalog, o.track, warn) : build_text_query(*catalog, o.text, warn);
    MatchReport rep;
    rep.query_kind = q.kind;
    rep.resolved = q.resolved;
    std::map<Space, double> weights;
    const std::vector<Space> spaces = plan_spaces(q, o, weights, rep);
    if (spaces.empty() && q.fts.empty()) return rep;

    Backend& backend = m_impl->backend(o, filter, o.backend == "qdrant" && !spaces.empty());
    if (catalog) backend.begin_query(catalog->generation());
    Ranker ranker(backend, q, spaces, weights);
    std::vector<MatchResult> all = ranker.rank(catalog, filter, o.k, o.breadth);
    if (q.fts.empty()) rep.complete = ranker.complete();
    if (o.boost_learned) boost_learned(catalog, all, warn);
    std::sort(all.begin(), all.end(), [](const MatchResult& a, const MatchResult& b) {
        return a.score != b.score ? a.score > b.score : a.track.id < b.track.id;
    });
    if (all.size() > o.k) all.resize(o.k);
    int rank = 0;
    for (auto& r : all) {
        r.rank = ++rank;
        if (auto t = backend.row(r.track.id)) r.track = *t;
    }
    rep.results = std::move(all);
    return rep;
}

MatchReport run_match(store::Catalog& cat, const MatchOptions& o, std::ostream& warn) { return run_match(&cat, o, warn); }

MatchReport run_match(store::Catalog* catalog, const MatchOptions& o, std::ostream& warn) { return Session(catalog, warn).run(o); }

std::vector<Space> parse_space_list(const std::string& list) {
    std::vector<Space> out;
    if (list == "all") return out;
    std::stringstream ss(list);
    std::string s;
    while (std::getline(ss, s, ',')) {
        auto sp = dna::parse_space(s);
        if (!sp) throw Error(ErrorKind::usage, "unknown space '" + s + "' (audio, structure, emotion, production, sections, all)");
        out.push_back(*sp);
    }
    return out;
}

MatchOptions query_line_options(const nlohmann::json& line, const MatchOptions& defaults) {
    MatchOptions o = defaults;
    o.like_file.clear(), o.track.clear(), o.text.clear();
    auto string_of = [&](const char* key) {
        const auto& v = line.at(key);
        if (!v.is_string() || v.get<std::string>().empty()) throw Error(ErrorKind::usage, std::string("\"") + key + "\" must be a non-empty string");
        return v.get<std::string>();
    };
    for (const auto& [key, v] : line.items()) {
        if (key == "id") continue;
        if (key == "like") o.like_file = string_of("like");
        else if (key == "text") o.text = string_of("text");
        else if (key == "track") {
            if (v.is_number_integer()) o.track = std::to_string(v.get<int64_t>());
            else o.track = string_of("track");
        } else if (key == "k") {
            if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 10000) throw Error(ErrorKind::usage, "\"k\" must be an integer in 1..10000");
            o.k = size_t(v.get<int64_t>());
        } else if (key == "filter") {
            if (v.is_string()) o.filters.push_back(v.get<std::string>());
            else if (v.is_array()) {
                for (const auto& f : v) {
                    if (!f.is_string()) throw Error(ErrorKind::usage, "\"filter\" must be a string or a list of strings");
                    o.filters.push_back(f.get<std::string>());
                }
            } else {
                throw Error(ErrorKind::usage, "\"filter\" must be a string or a list of strings");
            }
        } else if (key == "space") {
            o.spaces = parse_space_list(string_of("space"));
        } else {
            throw Error(ErrorKind::usage, "unknown key \"" + key + "\" (id, like, track, text, filter, k, space)");
        }
    }
    const int kinds = int(!o.like_file.empty()) + int(!o.track.empty()) + int(!o.text.empty());
    if (kinds != 1) throw Error(ErrorKind::usage, "give exactly one of \"like\", \"track\", \"text\"");
    store::parse_filter(o.filters);  // a bad filter fails its line before any work
    return o;
}

std::unique_ptr<store::Catalog> open_catalog(const MatchOptions& o, const std::string& db) {
    const std::string path = store::resolve_db_path(db);
    // --like against Qdrant needs no local catalog: the payload describes the results.
    if (o.backend == "qdrant" && !o.like_file.empty() && !store::catalog_exists(path)) return nullptr;
    return std::make_unique<store::Catalog>(path, store::Catalog::Mode::read_only);
}

MatchReport run(const MatchOptions& o, const std::string& db, std::ostream& warn) {
    auto cat = open_catalog(o, db);
    return run_match(cat.get(), o, warn);
}

namespace {
double r4(double x) { return std::round(x * 10000.0) / 10000.0; }
}  // namespace

nlohmann::ordered_json to_json(const MatchResult& r) {
    nlohmann::ordered_json j;
    j["rank"] = r.rank;
    j["track_id"] = r.track.id;
    j["title"] = r.track.title;
    j["artist"] = r.track.artist;
    j["score"] = r4(r.score);
    nlohmann::ordered_json sc = nlohmann::ordered_json::object();
    for (auto& [s, v] : r.space_scores) sc[dna::to_string(s)] = r4(v);
    j["scores"] = sc;
    if (r.text_score) j["text_score"] = r4(*r.text_score);
    if (r.hit_score) j["hit_score"] = r4(*r.hit_score);
    if (r.section) {
        j["section"] = {{"index", r.section->index}, {"start_s", r.section->start_s}, {"end_s", r.section->end_s},
                        {"label", r.section->label}, {"role", r.section->role}};
    }
    if (r.query_section) j["query_section"] = {{"start_s", r.query_section->start_s}, {"end_s", r.query_section->end_s}};
    j["path"] = r.track.path;
    j["source"] = r.track.source;
    if (r.track.year) j["year"] = *r.track.year;
    j["genres"] = r.track.genres;
    if (r.track.peak_rank) j["peak_rank"] = *r.track.peak_rank;
    return j;
}

nlohmann::ordered_json to_json(const MatchReport& rep) {
    nlohmann::ordered_json j;
    j["query"] = rep.query_kind;
    j["resolved"] = rep.resolved;
    nlohmann::ordered_json w = nlohmann::ordered_json::object();
    for (auto& [s, v] : rep.weights) w[dna::to_string(s)] = v;
    j["weights"] = w;
    if (rep.complete) j["complete"] = *rep.complete;
    j["results"] = nlohmann::ordered_json::array();
    for (const auto& r : rep.results) j["results"].push_back(to_json(r));
    return j;
}

}  // namespace hitdna::match
