#include "hitdna/store/vector_index.hpp"

#include <fcntl.h>
#include <hnswlib/hnswlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <queue>
#include <random>
#include <thread>
#include <unordered_set>

#include "hitdna/core/error.hpp"
#include "hitdna/store/hash.hpp"
#include "hitdna/store/hnsw_build.hpp"
#include "hitdna/store/detail/access.hpp"
#include "hitdna/store/detail/mapped_hnsw.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace hitdna::store {

using dna::Space;

namespace {

using Hnsw = hnswlib::HierarchicalNSW<float>;

std::string manifest_path(const std::string& dir, Space s) { return dir + "/" + to_string(s) + ".json"; }

// An exclusive lock on DB.hnsw/lock for the writers of index files.
class DirLock {
public:
    explicit DirLock(const std::string& dir) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec) throw Error(ErrorKind::index, dir + ": cannot create the index directory: " + ec.message());
        m_fd = ::open((dir + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (m_fd < 0) throw Error(ErrorKind::index, dir + "/lock: " + std::strerror(errno));
        while (::flock(m_fd, LOCK_EX) != 0)
            if (errno != EINTR) throw Error(ErrorKind::index, dir + "/lock: " + std::strerror(errno));
    }
    ~DirLock() { ::close(m_fd); }
    DirLock(const DirLock&) = delete;
    DirLock& operator=(const DirLock&) = delete;

private:
    int m_fd = -1;
};

void fsync_path(const std::string& path, bool dir) {
    int fd = ::open(path.c_str(), (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) return;
    int rc = ::fsync(fd);
    int e = errno;
    ::close(fd);
    if (rc != 0 && !dir) throw Error(ErrorKind::index, path + ": cannot sync: " + std::strerror(e));
}

json manifest_json(const IndexManifest& m) {
    json j;
    j["format"] = "hitdna-hnsw-1";
    j["space"] = to_string(m.space);
    j["generation"] = m.generation;
    j["count"] = m.count;
    j["dim"] = m.dim;
    j["file"] = m.file;
    j["bytes"] = m.bytes;
    j["xxh3_128"] = m.hash;
    j["stamp"] = m.stamp;
    j["catalog"] = m.catalog_id;
    j["M"] = m.m;
    j["ef_construction"] = m.ef_construction;
    j["ef_search"] = m.ef_search;
    j["tuned_recall_at_10"] = m.tuned_recall;
    j["mean"] = m.mean;
    j["sd"] = m.sd;
    j["build_s"] = m.build_s;
    return j;
}

std::optional<IndexManifest> read_manifest(const std::string& path, std::string& why) {
    std::ifstream in(path);
    if (!in) {
        why = "no index file";
        return std::nullopt;
    }
    try {
        json j = json::parse(in);
        IndexManifest m;
        if (j.at("format") != "hitdna-hnsw-1") throw std::runtime_error("unknown format");
        auto sp = dna::parse_space(j.at("space").get<std::string>());
        if (!sp) throw std::runtime_error("unknown space");
        m.space = *sp;
        m.generation = j.at("generation");
        m.count = j.at("count");
        m.dim = j.at("dim");
        m.file = j.at("file");
        m.bytes = j.at("bytes");
        m.hash = j.at("xxh3_128");
        m.stamp = j.value("stamp", std::string());
        m.catalog_id = j.at("catalog");
        m.m = j.at("M");
        m.ef_construction = j.at("ef_construction");
        m.ef_search = j.at("ef_search");
        m.tuned_recall = j.at("tuned_recall_at_10");
        m.mean = j.at("mean").get<std::vector<double>>();
        m.sd = j.at("sd").get<std::vector<double>>();
        m.build_s = j.value("build_s", 0.0);
        if (m.mean.size() != m.dim || m.sd.size() != m.dim || m.file.find('/') != std::string::npos) throw std::runtime_error("inconsistent fields");
        return m;
    } catch (const std::exception& e) {
        why = std::string("unreadable manifest ") + path + " (" + e.what() + ")";
        return std::nullopt;
    }
}

// Size hnswlib's saveIndex writes for a graph, to catch short writes it does not report.
int64_t expected_bytes(const Hnsw& h) {
    int64_t b = 8 * 6 + 4 + 4 + 8 * 5;
    b += int64_t(h.cur_element_count) * int64_t(h.size_data_per_element_);
    for (size_t i = 0; i < h.cur_element_count; ++i)
        b += 4 + (h.element_levels_[i] > 0 ? int64_t(h.size_links_per_element_) * h.element_levels_[i] : 0);
    return b;
}

int64_t file_size(const std::string& path) {
    struct stat sb{};
    return ::stat(path.c_str(), &sb) == 0 ? int64_t(sb.st_size) : -1;
}


struct Loaded {
    IndexManifest manifest;
    std::unique_ptr<hnswlib::L2Space> l2;
    std::unique_ptr<Hnsw> hnsw;                 // loaded into memory (to extend it)
    std::unique_ptr<detail::MappedHnsw> mapped;  // searched in place
};

enum class Open { search, extend };

// Opens a space's index, checking the manifest, the size and the stamp (the whole file's hash
// with check_hash, or when the manifest predates stamps); nullptr with the reason. `search`
// opens the file to be searched where it lies (read or mapped, by `access`); `extend` loads it
// with hnswlib, room for extra_capacity more vectors.
std::unique_ptr<Loaded> load_index(const std::string& dir, Space space, const std::string& catalog_id, int64_t catalog_generation,
                                   size_t extra_capacity, bool check_hash, std::string& why, Open how = Open::search,
                                   IndexAccess access = IndexAccess::read) {
    auto m = read_manifest(manifest_path(dir, space), why);
    if (!m) return nullptr;
    if (m->space != space || m->dim != dna::dimensions(space).size()) {
        why = "index is for another space or dimension";
        return nullptr;
    }
    if (m->catalog_id != catalog_id) {
        why = "index was built for another catalog (id " + m->catalog_id + ")";
        return nullptr;
    }
    if (m->generation > catalog_generation) {
        why = "index is newer than the catalog (generation " + std::to_string(m->generation) + " > " + std::to_string(catalog_generation) +
              "; was the catalog restored from a backup?)";
        return nullptr;
    }
    const std::string file = dir + "/" + m->file;
    if (file_size(file) != m->bytes) {
        why = file_size(file) < 0 ? "index file " + file + " is missing" : "index file " + file + " has the wrong size";
        return nullptr;
    }
    try {
        if ((check_hash || m->stamp.empty()) && hash_file(file) != m->hash) {
            why = "index file " + file + " fails its checksum";
            return nullptr;
        }
        if (!check_hash && !m->stamp.empty() && stamp_file(file) != m->stamp) {
            why = "index file " + file + " fails its stamp (size, first and last 64 KiB)";
            return nullptr;
        }
        auto l = std::make_unique<Loaded>();
        l->manifest = *m;
        size_t count = 0;
        if (how == Open::search) {
            using detail::MappedHnsw;
            l->mapped = std::make_unique<MappedHnsw>(file, m->dim, access == IndexAccess::map ? MappedHnsw::Access::map : MappedHnsw::Access::read);
            count = l->mapped->size();
        } else {
            l->l2 = std::make_unique<hnswlib::L2Space>(m->dim);
            l->hnsw = std::make_unique<Hnsw>(l->l2.get(), file, false, size_t(m->count) + extra_capacity);
            count = l->hnsw->cur_element_count;
        }
        if (int64_t(count) != m->count) {
            why = "index file " + file + " holds " + std::to_string(count) + " vectors, manifest says " + std::to_string(m->count);
            return nullptr;
        }
        return l;
    } catch (const std::exception& e) {
        why = "index file " + file + ": " + e.what();
        return nullptr;
    }
}


int resolve_threads(int threads) {
    if (threads > 0) return threads;
    return std::max(1, int(std::thread::hardware_concurrency()));
}

}  // namespace

namespace {

void add_points_impl(hnswlib::HierarchicalNSW<float>& h, const std::vector<float>& data, const std::vector<int64_t>& labels, size_t dim, int threads) {
    std::atomic<size_t> next{0};
    auto work = [&] {
        for (size_t i; (i = next.fetch_add(1)) < labels.size();) h.addPoint(data.data() + i * dim, hnswlib::labeltype(labels[i]));
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads && labels.size() > 1000; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
}

// Builds the graph and tunes ef on fresh queries: 200 vectors (a tenth for small sets) are
// held out, the rest inserted, the held-out ones searched against exact neighbours among the
// inserted ones, then inserted too. Returns the smallest ef in 16..512 whose recall@10
// reaches 0.99, and that recall.
std::pair<int, double> build_and_tune_impl(hnswlib::HierarchicalNSW<float>& h, const std::vector<float>& data, const std::vector<int64_t>& labels,
                                           size_t dim, int threads) {
    const size_t n = labels.size();
    const size_t k = 10;
    const size_t nq = n < 100 ? 0 : std::min<size_t>(200, n / 10);
    std::vector<char> held(n, 0);
    std::vector<size_t> qi;
    std::mt19937 rng(7);
    while (qi.size() < nq) {
        size_t i = std::uniform_int_distribution<size_t>(0, n - 1)(rng);
        if (!held[i]) held[i] = 1, qi.push_back(i);
    }
    std::vector<float> rest_data, q_data;
    std::vector<int64_t> rest_labels, q_labels;
    rest_data.reserve(data.size());
    for (size_t i = 0; i < n; ++i) {
        auto& d = held[i] ? q_data : rest_data;
        d.insert(d.end(), data.begin() + long(i * dim), data.begin() + long((i + 1) * dim));
        (held[i] ? q_labels : rest_labels).push_back(labels[i]);
    }
    add_points_impl(h, rest_data, rest_labels, dim, threads);
    int best_ef = 512;
    double recall = 1.0;
    if (nq > 0) {
        std::vector<std::vector<int64_t>> truth(nq);
        std::atomic<size_t> next{0};
        const size_t nr = rest_labels.size();
        auto exact = [&] {
            for (size_t q; (q = next.fetch_add(1)) < nq;) {
                const float* x = q_data.data() + q * dim;
                std::priority_queue<std::pair<float, size_t>> top;
                for (size_t j = 0; j < nr; ++j) {
                    float d = 0;
                    for (size_t c = 0; c < dim; ++c) {
                        float t = x[c] - rest_data[j * dim + c];
                        d += t * t;
                    }
                    if (top.size() < k) top.emplace(d, j);
                    else if (d < top.top().first) top.pop(), top.emplace(d, j);
                }
                while (!top.empty()) truth[q].push_back(rest_labels[top.top().second]), top.pop();
            }
        };
        std::vector<std::thread> pool;
        for (int t = 1; t < threads && nr > 10000; ++t) pool.emplace_back(exact);
        exact();
        for (auto& t : pool) t.join();
        for (int ef : {16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512}) {
            h.setEf(size_t(ef));
            size_t hit = 0, want = 0;
            for (size_t q = 0; q < nq; ++q) {
                auto pq = h.searchKnn(q_data.data() + q * dim, k);
                std::unordered_set<int64_t> got;
                while (!pq.empty()) got.insert(int64_t(pq.top().second)), pq.pop();
                for (int64_t t : truth[q]) hit += got.count(t);
                want += truth[q].size();
            }
            recall = double(hit) / double(std::max<size_t>(1, want));
            best_ef = ef;
            if (recall >= 0.99) break;
        }
    } else {
        best_ef = 64;  // under 100 vectors: ef 64 visits them all
    }
    add_points_impl(h, q_data, q_labels, dim, threads);
    return {best_ef, recall};
}

}  // namespace

struct HnswGraph::Impl {
    hnswlib::L2Space l2;
    Hnsw h;
    size_t dim;
    Impl(size_t d, size_t cap, int m, int efc) : l2(d), h(&l2, std::max<size_t>(1, cap), size_t(m), size_t(efc)), dim(d) {}
    Impl(size_t d, const std::string& path) : l2(d), h(&l2, path), dim(d) {}
};

HnswGraph::HnswGraph(size_t dim, size_t capacity, int m, int ef_construction)
    : m_impl(std::make_unique<Impl>(dim, capacity, m, ef_construction)) {}
HnswGraph::HnswGraph(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
HnswGraph::~HnswGraph() = default;
std::unique_ptr<HnswGraph> HnswGraph::load(const std::string& path, size_t dim) {
    return std::unique_ptr<HnswGraph>(new HnswGraph(std::make_unique<Impl>(dim, path)));
}
std::vector<float> HnswGraph::row(size_t i) const {
    const auto* v = reinterpret_cast<const float*>(m_impl->h.getDataByInternalId(hnswlib::tableint(i)));
    return {v, v + m_impl->dim};
}
std::pair<int, double> HnswGraph::build(const std::vector<float>& data, const std::vector<int64_t>& labels, int threads) {
    return build_and_tune_impl(m_impl->h, data, labels, m_impl->dim, resolve_threads(threads));
}
void HnswGraph::set_ef(size_t ef) { m_impl->h.setEf(ef); }
std::vector<std::pair<float, int64_t>> HnswGraph::search(const float* query, size_t k) const {
    auto pq = m_impl->h.searchKnn(query, k);
    std::vector<std::pair<float, int64_t>> out(pq.size());
    for (size_t i = pq.size(); i-- > 0;) out[i] = {pq.top().first, int64_t(pq.top().second)}, pq.pop();
    return out;
}
void HnswGraph::save(const std::string& path) const { m_impl->h.saveIndex(path); }
size_t HnswGraph::size() const { return m_impl->h.cur_element_count; }

VectorIndexes::VectorIndexes(Catalog& catalog) : m_catalog(catalog), m_dir(catalog.path() + ".hnsw") {}

namespace {

// Standardized rows of a space newer than min_generation (0 = all), appended to data with
// their ids; returns the catalog generation they belong to. Call inside a ReadTransaction.
int64_t collect_standardized(Catalog& cat, Space space, int64_t min_generation, const SpaceStats& st, std::vector<float>& data,
                             std::vector<int64_t>& labels) {
    const size_t dim = dna::dimensions(space).size();
    const int64_t generation = cat.generation();
    cat.for_each_vector(space, min_generation, {}, [&](StoredVector&& v) {
        if (v.data.size() != dim) return;
        auto z = st.standardize(v.data);
        data.insert(data.end(), z.begin(), z.end());
        labels.push_back(v.id);
    });
    return generation;
}

// Writes a graph and its manifest (the commit point), then removes superseded graphs of the
// space except the one just replaced (a reader may be opening it). Caller holds DirLock.
void commit_index(const std::string& dir, Hnsw& h, IndexManifest& m) {
    const std::string file = dir + "/" + m.file, tmp = file + ".tmp";
    h.saveIndex(tmp);
    m.bytes = file_size(tmp);
    if (m.bytes != expected_bytes(h)) {
        ::unlink(tmp.c_str());
        throw Error(ErrorKind::index, tmp + ": short write (disk full?); the previous index is kept");
    }
    fsync_path(tmp, false);
    m.hash = hash_file(tmp);
    m.stamp = stamp_file(tmp);
    if (::rename(tmp.c_str(), file.c_str()) != 0) throw Error(ErrorKind::index, file + ": cannot rename: " + std::strerror(errno));
    const std::string mp = manifest_path(dir, m.space), mtmp = mp + ".tmp";
    {
        std::ofstream out(mtmp, std::ios::trunc);
        out << manifest_json(m).dump(1) << "\n";
        out.flush();
        if (!out) {
            out.close();
            ::unlink(mtmp.c_str());
            throw Error(ErrorKind::index, mtmp + ": cannot write (disk full?); the previous index is kept");
        }
    }
    fsync_path(mtmp, false);
    if (::rename(mtmp.c_str(), mp.c_str()) != 0) throw Error(ErrorKind::index, mp + ": cannot rename: " + std::strerror(errno));
    fsync_path(dir, true);
    std::vector<std::pair<int64_t, fs::path>> olds;
    const std::string prefix = std::string(to_string(m.space)) + ".g";
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        auto name = e.path().filename().string();
        if (name.rfind(prefix, 0) != 0 || name == m.file) continue;
        if (name.size() > 4 && name.substr(name.size() - 4) == ".tmp") {
            fs::remove(e.path(), ec);
            continue;
        }
        olds.emplace_back(std::atoll(name.c_str() + prefix.size()), e.path());
    }
    std::sort(olds.begin(), olds.end());
    for (size_t i = 0; i + 1 < olds.size(); ++i) fs::remove(olds[i].second, ec);
}

}  // namespace

IndexManifest VectorIndexes::rebuild(Space space, int threads) {
    DirLock lock(m_dir);
    return rebuild_locked(space, threads);
}

IndexManifest VectorIndexes::rebuild_locked(Space space, int threads) {
    const auto t0 = std::chrono::steady_clock::now();
    const size_t dim = dna::dimensions(space).size();
    IndexManifest m;
    m.space = space;
    m.dim = dim;
    m.catalog_id = m_catalog.catalog_id();
    std::vector<float> data;
    std::vector<int64_t> labels;
    {
        Catalog::ReadSnapshot snap(m_catalog);  // the generation, statistics and rows agree
        SpaceStats st = m_catalog.stats(space);
        m.mean = st.mean;
        m.sd = st.sd;
        m.generation = collect_standardized(m_catalog, space, 0, st, data, labels);
    }
    m.count = int64_t(labels.size());
    hnswlib::L2Space l2(dim);
    Hnsw h(&l2, std::max<size_t>(1, labels.size()), size_t(k_hnsw_m), size_t(k_hnsw_ef_construction));
    auto [ef, recall] = build_and_tune_impl(h, data, labels, dim, resolve_threads(threads));
    m.ef_search = ef;
    m.tuned_recall = recall;
    m.file = std::string(to_string(space)) + ".g" + std::to_string(m.generation) + ".hnsw";
    m.build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    commit_index(m_dir, h, m);
    return m;
}

IndexManifest VectorIndexes::update(Space space, int threads) {
    // Everything under the lock: the index read here is the one extended and replaced.
    DirLock lock(m_dir);
    std::string why;
    const SpaceStats st = m_catalog.stats(space);
    const int64_t catalog_generation = m_catalog.generation();
    auto cur = load_index(m_dir, space, m_catalog.catalog_id(), catalog_generation, 0, true, why, Open::extend);
    // Small indexes are rebuilt (cheap, and the statistics stay fresh); so are indexes whose
    // statistics predate half the catalog, or that carry many rows deleted since.
    if (!cur || cur->manifest.count < m_incremental_min || st.count > 2 * cur->manifest.count || cur->manifest.count > st.count + st.count / 5)
        return rebuild_locked(space, threads);
    const auto t0 = std::chrono::steady_clock::now();
    const size_t dim = dna::dimensions(space).size();
    IndexManifest m = cur->manifest;
    std::vector<float> data;
    std::vector<int64_t> labels;
    {
        Catalog::ReadSnapshot snap(m_catalog);  // the generation and the rows agree
        SpaceStats frozen;  // new rows are standardized as the index's rows were
        frozen.mean = m.mean;
        frozen.sd = m.sd;
        m.generation = collect_standardized(m_catalog, space, cur->manifest.generation, frozen, data, labels);
    }
    if (labels.empty()) return cur->manifest;
    cur->hnsw->resizeIndex(cur->hnsw->cur_element_count + labels.size());
    add_points_impl(*cur->hnsw, data, labels, dim, resolve_threads(threads));
    m.count = int64_t(cur->hnsw->cur_element_count);
    m.file = std::string(to_string(space)) + ".g" + std::to_string(m.generation) + ".hnsw";
    m.build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    commit_index(m_dir, *cur->hnsw, m);
    return m;
}

void VectorIndexes::update_all(std::ostream& warn, const std::string& who, int threads) {
    for (auto sp : dna::k_spaces) {
        try {
            update(sp, threads);
        } catch (const Error& e) {
            // The catalog holds everything; searches fall back to exact scans until a rebuild.
            warn << who << ": warning: " << e.what() << " (searches stay correct; run 'hitdna index rebuild')\n";
        }
    }
}

bool VectorIndexes::behind() {
    for (auto sp : dna::k_spaces) {
        if (m_catalog.stats(sp).count == 0) continue;
        std::string why;
        auto l = load_index(m_dir, sp, m_catalog.catalog_id(), m_catalog.generation(), 0, false, why);
        if (!l || newer_vectors(sp, l->manifest.generation) > 0) return true;
    }
    return false;
}

int64_t VectorIndexes::newer_vectors(Space space, int64_t generation) {
    // The (space, generation) index reads only the newer rows: few, between an ingest and its
    // index update.
    Stmt st(detail::db_of(m_catalog), "SELECT count(*) FROM vectors WHERE space = ?1 AND generation > ?2");
    st.bind(1, to_string(space)).bind(2, generation);
    return st.step() ? st.i64(0) : 0;
}

IndexStatus VectorIndexes::status(Space space, bool check_hash) {
    IndexStatus s;
    s.space = space;
    std::string why;
    s.present = fs::exists(manifest_path(m_dir, space));
    auto l = load_index(m_dir, space, m_catalog.catalog_id(), m_catalog.generation(), 0, check_hash, why);
    s.catalog_vectors = m_catalog.count_vectors(space);
    if (!l) {
        s.problem = why;
        s.newer_vectors = s.catalog_vectors;
        return s;
    }
    s.valid = true;
    s.manifest = l->manifest;
    s.newer_vectors = newer_vectors(space, l->manifest.generation);
    return s;
}

// ---- search ----

struct SpaceSearcher::Impl {
    Catalog& catalog;
    std::unique_ptr<Loaded> index;
    std::ostream* warnings;
    std::shared_ptr<const ResidentSpace> resident;
    Impl(Catalog& c, std::ostream* w) : catalog(c), warnings(w) {}
};

SpaceSearcher::SpaceSearcher(Catalog& catalog, Space space, std::ostream* warnings)
    : m_impl(std::make_unique<Impl>(catalog, warnings)), m_space(space) {}

SpaceSearcher::SpaceSearcher(VectorIndexes& indexes, Space space, std::ostream* warnings) : SpaceSearcher(indexes.m_catalog, space, warnings) {
    std::string why;
    const bool has_rows = indexes.m_catalog.stats(space).count > 0;
    if (has_rows)
        m_impl->index =
            load_index(indexes.m_dir, space, indexes.m_catalog.catalog_id(), indexes.m_catalog.generation(), 0, false, why, Open::search, indexes.m_access);
    finish(indexes.m_catalog, has_rows, why);
}

std::map<Space, std::unique_ptr<SpaceSearcher>> SpaceSearcher::open(VectorIndexes& indexes, const std::vector<Space>& spaces,
                                                                    std::ostream* warnings) {
    Catalog& cat = indexes.m_catalog;
    const std::string catalog_id = cat.catalog_id();
    const int64_t generation = cat.generation();
    struct Job {
        std::unique_ptr<SpaceSearcher> searcher;
        bool has_rows;
        std::string why;
    };
    std::vector<Job> jobs;
    for (Space s : spaces) jobs.push_back({std::unique_ptr<SpaceSearcher>(new SpaceSearcher(cat, s, warnings)), cat.stats(s).count > 0, {}});
    auto load = [&](Job& j) noexcept {
        if (!j.has_rows) return;
        try {
            j.searcher->m_impl->index =
                load_index(indexes.m_dir, j.searcher->m_space, catalog_id, generation, 0, false, j.why, Open::search, indexes.m_access);
        } catch (const std::exception& e) {
            j.why = e.what();
        } catch (...) {
            j.why = "cannot be opened";
        }
    };
    std::vector<std::thread> threads;
    for (size_t i = 1; i < jobs.size(); ++i) threads.emplace_back(load, std::ref(jobs[i]));
    if (!jobs.empty()) load(jobs[0]);
    for (auto& t : threads) t.join();
    std::map<Space, std::unique_ptr<SpaceSearcher>> out;
    for (auto& j : jobs) {
        j.searcher->finish(cat, j.has_rows, j.why);
        out[j.searcher->m_space] = std::move(j.searcher);
    }
    return out;
}

void SpaceSearcher::finish(Catalog& catalog, bool has_rows, const std::string& why) {
    if (has_rows && !m_impl->index && m_impl->warnings)
        *m_impl->warnings << "hitdna: warning: " << to_string(m_space) << " index not used (" << why
                          << "); searching the catalog exactly. 'hitdna index rebuild' makes a new one.\n";
    if (m_impl->index) {
        m_mean = m_impl->index->manifest.mean;
        m_sd = m_impl->index->manifest.sd;
    } else {
        auto st = catalog.stats(m_space);
        m_mean = st.mean;
        m_sd = st.sd;
    }
}

SpaceSearcher::~SpaceSearcher() = default;

bool SpaceSearcher::using_index() const { return bool(m_impl->index); }

void SpaceSearcher::use_resident(std::shared_ptr<const ResidentSpace> vectors) { m_impl->resident = std::move(vectors); }

std::vector<float> SpaceSearcher::standardize(const std::vector<float>& raw) const {
    std::vector<float> z(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) z[i] = float((raw[i] - (i < m_mean.size() ? m_mean[i] : 0)) / (i < m_sd.size() ? m_sd[i] : 1));
    return z;
}

float SpaceSearcher::distance2(const std::vector<float>& a, const std::vector<float>& b) const {
    float d = 0;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
        float t = float((a[i] - b[i]) / (i < m_sd.size() ? m_sd[i] : 1));
        d += t * t;
    }
    return d;
}

VectorHit SpaceSearcher::hit_of(StoredVector&& v, const std::vector<std::vector<float>>& raw_queries) const {
    VectorHit h;
    h.vector_id = v.id;
    h.track_id = v.track_id;
    h.dist2 = distance2(raw_queries.front(), v.data);
    for (size_t i = 1; i < raw_queries.size(); ++i) h.dist2 = std::min(h.dist2, distance2(raw_queries[i], v.data));
    h.section = std::move(v.section);
    return h;
}

namespace {

// The index's k nearest to z (n queries) at its tuned breadth (at least k): index_hits' search,
// and so warm's, which must make the same one for the search to be answered from its list.
std::vector<std::pair<float, int64_t>> search_index(const Loaded& l, const float* z, size_t n, size_t k) {
    k = std::min<size_t>(k, std::max<size_t>(1, l.mapped->size()));
    return l.mapped->search(z, n, k, std::max<size_t>(size_t(l.manifest.ef_search), k));
}

}  // namespace

bool SpaceSearcher::index_hits(const std::vector<float>& z, const std::vector<std::vector<float>>& raw, size_t k, const Filter& filter,
                               const std::unordered_set<int64_t>& allowed, int64_t n_allowed, std::vector<VectorHit>& hits, std::string& failure) {
    const auto& h = *m_impl->index->mapped;
    const int64_t total = int64_t(h.size());
    size_t want = k;
    if (!filter.empty()) {
        const double share = std::max(1e-3, double(n_allowed) / double(std::max<int64_t>(1, total)));
        want = size_t(std::ceil(double(k) / share * 1.5));
    }
    for (;;) {
        want = std::min<size_t>(want, size_t(std::max<int64_t>(1, total)));
        std::vector<std::pair<float, int64_t>> cand;
        try {
            cand = search_index(*m_impl->index, z.data(), raw.size(), want);
        } catch (const std::runtime_error& e) {
            failure = e.what();
            return false;
        }
        hits.clear();
        if (const auto& res = m_impl->resident) {
            for (const auto& [d2, label] : cand) {
                const size_t row = res->row_of_vector(label);  // rows deleted since the build are gone here
                if (row == ResidentSpace::npos || (!filter.empty() && !allowed.count(res->track_id(row)))) continue;
                hits.push_back({label, res->track_id(row), d2, res->section(row)});
            }
        } else {
            std::vector<int64_t> ids;
            for (auto& c : cand) ids.push_back(c.second);
            for (auto& r : m_impl->catalog.vectors_by_id(m_space, ids)) {  // rows deleted since the build are gone here
                if (!filter.empty() && !allowed.count(r.track_id)) continue;
                hits.push_back(hit_of(std::move(r), raw));
            }
        }
        if (hits.size() >= k || int64_t(want) >= total) return true;
        want *= 4;
    }
}

void SpaceSearcher::warm(const std::vector<float>& raw, size_t k) const {
    if (!m_impl->index || k == 0 || raw.size() != dna::dimensions(m_space).size()) return;
    // As index_hits' first search without a filter: the same query, k and breadth.
    const auto z = standardize(raw);
    try {
        search_index(*m_impl->index, z.data(), 1, k);
    } catch (const std::runtime_error&) {
    }
}

std::vector<VectorHit> SpaceSearcher::search(const std::vector<float>& raw, size_t k, const Filter& filter) {
    return search(std::vector<std::vector<float>>{raw}, k, filter);
}

std::vector<VectorHit> SpaceSearcher::search(const std::vector<std::vector<float>>& raw, size_t k, const Filter& filter) {
    std::vector<VectorHit> out;
    const size_t dim = dna::dimensions(m_space).size();
    if (k == 0 || raw.empty() || std::any_of(raw.begin(), raw.end(), [&](const auto& q) { return q.size() != dim; })) return out;
    std::vector<float> z;
    z.reserve(raw.size() * dim);
    for (const auto& q : raw) {
        const auto zq = standardize(q);
        z.insert(z.end(), zq.begin(), zq.end());
    }
    auto& cat = m_impl->catalog;
    std::vector<VectorHit> hits;
    auto exact = [&](int64_t min_generation) {
        cat.for_each_vector(m_space, min_generation, filter, [&](StoredVector&& v) {
            if (v.data.size() != dim) return;
            hits.push_back(hit_of(std::move(v), raw));
        });
    };
    bool exact_all = !m_impl->index;
    std::unordered_set<int64_t> allowed;
    int64_t n_allowed = 0;
    if (!exact_all && !filter.empty()) {
        n_allowed = cat.count_vectors(m_space, filter);
        const int64_t total = std::max<int64_t>(1, m_impl->index->manifest.count);
        // Few allowed rows: scanning them exactly is cheaper and exact.
        if (n_allowed <= 20000 || n_allowed * 20 < total) exact_all = true;
        else {
            auto ids = cat.track_ids(filter);
            allowed.insert(ids.begin(), ids.end());
        }
    }
    std::string failure;
    if (!exact_all && !index_hits(z, raw, k, filter, allowed, n_allowed, hits, failure)) {
        // This query, and the session's next ones, search the catalog exactly.
        if (m_impl->warnings)
            *m_impl->warnings << "hitdna: warning: " << to_string(m_space) << " index " << m_impl->index->manifest.file << " failed during a search (" << failure
                              << "); searching the catalog exactly. 'hitdna index verify' checks it.\n";
        m_impl->index.reset();
        hits.clear();
        exact_all = true;
    }
    exact(exact_all ? 0 : m_impl->index->manifest.generation);  // all rows, or those newer than the index
    std::sort(hits.begin(), hits.end(), [](const VectorHit& a, const VectorHit& b) {
        return a.dist2 != b.dist2 ? a.dist2 < b.dist2 : a.vector_id < b.vector_id;
    });
    // The stale scan may repeat a row the index also returned.
    std::unordered_set<int64_t> seen;
    for (auto& x : hits) {
        if (!seen.insert(x.vector_id).second) continue;
        out.push_back(std::move(x));
        if (out.size() == k) break;
    }
    return out;
}

}  // namespace hitdna::store
