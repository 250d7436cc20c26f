// bench_scale: what queries cost as the catalog grows (issue 18), in one run.
//   Catalogs: for each size, tracks whose vectors are drawn from a Gaussian with the mean and
//   covariance of a real catalog (the Debian songs of bench_sketch, ingested by the hitdna
//   binary): the four track spaces jointly; sections as a track mean (between-track
//   covariance) plus each section's own deviation (within-track covariance). The largest size
//   is tracks only (no sections), as the issue asks.
//   For each size, every figure comes from the hitdna binary started as a user starts it
//   (fresh process, its peak RSS its own): `index rebuild --jobs` wall, `match --track ID
//   -k 10` wall p50 over ids spread through the catalog (cold: the catalog's and the indexes'
//   pages dropped from the page cache before each run, posix_fadvise DONTNEED, as after a
//   reboot; first run of each id, the page cache as the earlier steps left it; then each id
//   again, what it read now cached) and peak RSS,
//   `db stats`, and `match --queries` over B track queries (throughput, peak RSS).
//   Recall@10 of each space's index against an exact scan, on held-out rows: vectors drawn
//   from the same model and never inserted (in-process, through store::SpaceSearcher).
//   Peer: the Qdrant stand-in (tests/fake_qdrant.py: exact search, in Python) synced from the
//   same catalog, answering the same `match --track` and a smaller batch, up to --qdrant-max.
//   Search floor: hnswlib 0.6.2's own searchKnn (the library that builds the indexes, its
//   index loaded whole into memory) on each space's index at the index's tuned ef, queried
//   with stored vectors as a track query is: the time one track query's searches take at the
//   least (one per track space, one per query section), and so the most queries per second
//   any plan that searches each of them once can answer on this machine's cores; beside it
//   the batch again without the sections space. Then a track query's sections searched one by
//   one and all at once (SpaceSearcher::search with several queries): time and how many of the
//   tracks with the nearest best section pair each finds.

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <queue>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "../tests/fake_qdrant_proc.hpp"
#include "../tests/synthetic.hpp"
#include "debian_songs.hpp"
#include "hitdna/core/files.hpp"
#include "hitdna/store/catalog.hpp"
#include "hitdna/store/hnsw_build.hpp"
#include "hitdna/store/resident.hpp"
#include "hitdna/store/vector_index.hpp"
#include "usage.hpp"

using namespace hitdna;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using dna::Space;

namespace {

struct Run {
    int status = -1;
    double wall_s = 0;
    long max_rss_kb = 0;
};

// Forks and runs `argv` (stdin from `input`, stdout and stderr to /dev/null), waits:
// exit status, wall, peak RSS.
Run spawn_and_wait(char* const* argv, const std::string& input) {
    const auto t0 = Clock::now();
    const pid_t pid = fork();
    if (pid == 0) {
        const int null = open("/dev/null", O_WRONLY);
        const int in = open(input.c_str(), O_RDONLY);
        dup2(in, 0);
        dup2(null, 1);
        dup2(null, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    Run r;
    int status = 0;
    struct rusage ru {};
    wait4(pid, &status, 0, &ru);
    r.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.max_rss_kb = ru.ru_maxrss;
    return r;
}

// Runs HITDNA_BIN with `args` (stdin from `input` or /dev/null, stdout and stderr to
// /dev/null): exit status, wall, peak RSS. A child's peak RSS counts what it shared with its
// parent before exec, and this process holds the catalog's vectors (hundreds of MB at 1 000 000
// tracks), so hitdna is started by a small copy of this program (--spawn-child), which
// reports its child's figures through a pipe.
Run run_hitdna(const std::vector<std::string>& args, const std::string& input = "/dev/null") {
    int fds[2];
    if (pipe(fds) != 0) throw Error(ErrorKind::internal, "pipe failed");
    std::vector<std::string> copy = {"/proc/self/exe", "--spawn-child", input, HITDNA_BIN};
    copy.insert(copy.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        execv("/proc/self/exe", argv.data());
        _exit(127);
    }
    close(fds[1]);
    std::string out;
    char buf[256];
    for (ssize_t got; (got = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, size_t(got));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    Run r;
    std::istringstream in(out);
    if (!(in >> r.status >> r.wall_s >> r.max_rss_kb)) throw Error(ErrorKind::internal, "bench_scale --spawn-child said nothing");
    return r;
}

// --spawn-child INPUT COMMAND...: runs COMMAND, prints "status wall_s peak_rss_kb".
int spawn_child(char** argv) {
    const Run r = spawn_and_wait(argv + 3, argv[2]);
    std::printf("%d %.6f %ld\n", r.status, r.wall_s, r.max_rss_kb);
    return 0;
}

// A Gaussian fitted to rows: x = mean + L z.
struct Gaussian {
    Eigen::VectorXd mean;
    Eigen::MatrixXd L;
    void fit(const Eigen::MatrixXd& X) {
        mean = X.colwise().mean().transpose();
        const Eigen::MatrixXd C = X.rowwise() - mean.transpose();
        Eigen::MatrixXd cov = (C.transpose() * C) / double(std::max<Eigen::Index>(1, X.rows() - 1));
        // A small ridge keeps dimensions that never vary (and rank deficits) positive definite.
        const double ridge = 1e-4 * std::max(1e-9, cov.trace() / double(cov.rows()));
        cov += ridge * Eigen::MatrixXd::Identity(cov.rows(), cov.cols());
        L = Eigen::MatrixXd(Eigen::LLT<Eigen::MatrixXd>(cov).matrixL());
    }
    Eigen::VectorXd draw(std::mt19937& rng, const Eigen::VectorXd& centre) const {
        std::normal_distribution<double> g(0, 1);
        Eigen::VectorXd z(mean.size());
        for (Eigen::Index i = 0; i < z.size(); ++i) z(i) = g(rng);
        return centre + L * z;
    }
};

// The real catalog's shape: the four track spaces jointly; sections as between-track
// (the track's mean section) and within-track parts.
struct Model {
    std::vector<size_t> track_dims;  // audio, structure, emotion, production
    Gaussian tracks, section_means, section_within;
    size_t section_dim = 0, real_tracks = 0, real_sections = 0;

    void fit(store::Catalog& cat) {
        const std::vector<Space> spaces = {Space::audio, Space::structure, Space::emotion, Space::production};
        for (Space s : spaces) track_dims.push_back(dna::dimensions(s).size());
        section_dim = dna::dimensions(Space::sections).size();
        const size_t total = std::accumulate(track_dims.begin(), track_dims.end(), size_t(0));
        std::vector<std::vector<double>> rows, means, devs;
        for (int64_t id : cat.track_ids({})) {
            std::vector<double> row;
            for (Space s : spaces) {
                auto vs = cat.vectors_of(id, s);
                if (vs.empty() || vs.front().data.size() != dna::dimensions(s).size()) break;
                row.insert(row.end(), vs.front().data.begin(), vs.front().data.end());
            }
            if (row.size() != total) continue;
            rows.push_back(row);
            auto secs = cat.vectors_of(id, Space::sections);
            if (secs.empty()) continue;
            std::vector<double> m(section_dim, 0.0);
            for (const auto& v : secs)
                for (size_t d = 0; d < section_dim; ++d) m[d] += v.data[d] / double(secs.size());
            means.push_back(m);
            for (const auto& v : secs) {
                std::vector<double> dv(section_dim);
                for (size_t d = 0; d < section_dim; ++d) dv[d] = v.data[d] - m[d];
                devs.push_back(dv);
            }
        }
        if (rows.size() < 20 || devs.size() < 50) throw Error(ErrorKind::usage, "the real catalog has too few analysed tracks for a covariance");
        auto matrix = [](const std::vector<std::vector<double>>& r) {
            Eigen::MatrixXd X(Eigen::Index(r.size()), Eigen::Index(r.front().size()));
            for (size_t i = 0; i < r.size(); ++i)
                for (size_t d = 0; d < r[i].size(); ++d) X(Eigen::Index(i), Eigen::Index(d)) = r[i][d];
            return X;
        };
        tracks.fit(matrix(rows));
        section_means.fit(matrix(means));
        section_within.fit(matrix(devs));
        section_within.mean.setZero();
        real_tracks = rows.size();
        real_sections = devs.size();
    }

    // Track i's vectors (seeded by i, so a size's catalog is the same in every run).
    void draw_track(uint64_t seed, dna::Dna& d, int sections) const {
        std::mt19937 rng(uint32_t(seed * 2654435761u + 12345u));
        const Eigen::VectorXd x = tracks.draw(rng, tracks.mean);
        size_t at = 0;
        const std::array<std::vector<float>*, 4> spaces = {&d.vectors.audio, &d.vectors.structure, &d.vectors.emotion, &d.vectors.production};
        for (size_t i = 0; i < 4; ++i) {
            spaces[i]->assign(x.data() + at, x.data() + at + long(track_dims[i]));
            at += track_dims[i];
        }
        d.structure.sections.clear();
        d.vectors.sections.clear();
        const Eigen::VectorXd centre = section_means.draw(rng, section_means.mean);
        for (int s = 0; s < sections; ++s) {
            d.structure.sections.push_back(test::synthetic_section(s, 24.0));
            const Eigen::VectorXd v = section_within.draw(rng, centre);
            d.vectors.sections.emplace_back(v.data(), v.data() + v.size());
        }
        d.duration_s = 24.0 * std::max(8, sections);
    }
    std::vector<float> draw_held_out(std::mt19937& rng, Space s) const {
        if (s == Space::sections) {
            const Eigen::VectorXd v = section_within.draw(rng, section_means.draw(rng, section_means.mean));
            return {v.data(), v.data() + v.size()};
        }
        const Eigen::VectorXd x = tracks.draw(rng, tracks.mean);
        size_t at = 0;
        const std::vector<Space> order = {Space::audio, Space::structure, Space::emotion, Space::production};
        for (size_t i = 0; i < order.size(); ++i) {
            if (order[i] == s) return {x.data() + at, x.data() + at + track_dims[i]};
            at += track_dims[i];
        }
        return {};
    }
};

void build_catalog(const std::string& db, const Model& model, int n, int sections) {
    const auto t0 = Clock::now();
    const std::string tmp = db + ".building";
    fs::remove(tmp);
    {
        store::Catalog cat(tmp, store::Catalog::Mode::read_write);
        cat.set_durable_commits(false);  // building the fixture only
        dna::Dna d = test::tone_dna();
        for (int i = 0; i < n; ++i) {
            model.draw_track(uint64_t(i), d, sections);
            const store::TrackMeta m = test::synthetic_meta(i);
            cat.put_track("cov-" + std::to_string(i), "/synthetic/" + std::to_string(i) + ".wav", m, d);
        }
        cat.checkpoint();
    }
    fs::rename(tmp, db);
    std::fprintf(stderr, "bench_scale: %d tracks x %d sections written in %.0f s\n", n, sections, std::chrono::duration<double>(Clock::now() - t0).count());
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// Drops the catalog's and its indexes' pages from the page cache (clean pages of files no
// process maps): the next query reads them from the disk, as the first after a reboot.
void evict(const std::string& db) {
    std::vector<std::string> files{db, db + "-wal"};
    if (fs::is_directory(db + ".hnsw"))
        for (const auto& e : fs::directory_iterator(db + ".hnsw")) files.push_back(e.path().string());
    for (const auto& f : files) {
        const int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ::fdatasync(fd);
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        ::close(fd);
    }
}

// p50 wall of one run per argument list with the catalog's pages evicted before each.
double cold_p50(const std::vector<std::vector<std::string>>& arg_lists, const std::string& db) {
    std::vector<double> walls;
    for (const auto& args : arg_lists) {
        evict(db);
        const Run r = run_hitdna(args);
        if (r.status != 0) return -1;
        walls.push_back(r.wall_s);
    }
    return median(walls);
}

// p50 wall and the largest peak RSS of one run per argument list (a first run of the first
// warms what every run shares); with `again`, the p50 of a second run of each list (what its
// first run read is in the page cache now).
Run p50_of(const std::vector<std::vector<std::string>>& arg_lists, double* again = nullptr) {
    run_hitdna(arg_lists.front());
    std::vector<double> walls, walls_again;
    Run out;
    out.status = 0;
    for (int pass = 0; pass < (again ? 2 : 1); ++pass)
        for (const auto& args : arg_lists) {
            Run r = run_hitdna(args);
            if (r.status != 0) return r;
            (pass == 0 ? walls : walls_again).push_back(r.wall_s);
            out.max_rss_kb = std::max(out.max_rss_kb, r.max_rss_kb);
        }
    out.wall_s = median(walls);
    if (again) *again = median(walls_again);
    return out;
}

// Recall@10 of a space's index against an exact scan of the catalog, on held-out vectors.
double recall_at_10(store::Catalog& cat, const Model& model, Space s, int queries) {
    store::VectorIndexes idx(cat);
    store::SpaceSearcher searcher(idx, s, nullptr);
    if (!searcher.using_index()) return -1;  // no valid index: printed as such
    std::vector<std::pair<int64_t, std::vector<float>>> rows;
    cat.for_each_vector(s, 0, {}, [&](store::StoredVector&& v) { rows.emplace_back(v.id, searcher.standardize(v.data)); });
    std::mt19937 rng(uint32_t(991 + int(s)));
    size_t hit = 0, want = 0;
    for (int q = 0; q < queries; ++q) {
        const auto raw = model.draw_held_out(rng, s);
        const auto z = searcher.standardize(raw);
        std::priority_queue<std::pair<float, int64_t>> top;
        for (const auto& [id, v] : rows) {
            float d = 0;
            for (size_t c = 0; c < z.size(); ++c) d += (z[c] - v[c]) * (z[c] - v[c]);
            if (top.size() < 10) top.emplace(d, id);
            else if (d < top.top().first) top.pop(), top.emplace(d, id);
        }
        std::unordered_set<int64_t> got;
        for (const auto& h : searcher.search(raw, 10, {})) got.insert(h.vector_id);
        for (; !top.empty(); top.pop()) hit += got.count(top.top().second), ++want;
    }
    return double(hit) / double(std::max<size_t>(1, want));
}

// Microseconds per hnswlib searchKnn on a space's index at its tuned ef, over `queries` stored
// vectors (picked at random) as queries, k = the first round's breadth of a track query; -1
// without a valid index.
double hnswlib_us_per_search(store::Catalog& cat, Space s, int queries) {
    store::VectorIndexes idx(cat);
    const auto st = idx.status(s, false);
    if (!st.valid || st.manifest.count == 0) return -1;
    const auto h = store::HnswGraph::load(idx.dir() + "/" + st.manifest.file, st.manifest.dim);
    h->set_ef(size_t(st.manifest.ef_search));
    std::mt19937 rng(uint32_t(4049 + int(s)));
    std::vector<std::vector<float>> qs;
    for (int i = 0; i < queries; ++i) qs.push_back(h->row(rng() % h->size()));
    const size_t k = s == Space::sections ? 13 : 20;  // match's first round at -k 10 (8 sections)
    for (const auto& q : qs) h->search(q.data(), k);  // warms the caches
    const auto t0 = Clock::now();
    for (const auto& q : qs) h->search(q.data(), k);
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / double(qs.size());
}

// A track query's section searches two ways, in-process on the sections index (mapped, hits
// looked up in resident vectors as match --queries does), for `queries` tracks: each of its
// sections searched alone for 52 (what the second round asks per section; the first round's 13
// come from the same lists), and all its sections in one search for 104 and for 416 (the same
// totals). For each: microseconds per track query, and the share of the 10 tracks whose best
// section pair is nearest (exact, over every stored section) that the hits include.
std::string sections_one_search(const std::string& db, int queries) {
    store::Catalog cat(db, store::Catalog::Mode::read_only);
    store::VectorIndexes idx(cat);
    idx.set_access(store::IndexAccess::map);
    store::SpaceSearcher se(idx, Space::sections, nullptr);
    if (!se.using_index()) return "no index";
    store::ResidentVectors rv(db, store::ResidentVectors::k_default_budget, false);
    const auto res = rv.get(Space::sections, cat.generation(), se.mean(), se.sd());
    if (!res) return "vectors do not fit in memory";
    se.use_resident(res);
    const size_t dim = res->dim(), rows = res->rows();
    std::mt19937 rng(6151);
    double us[3] = {0, 0, 0}, found[3] = {0, 0, 0};
    int asked = 0;
    for (int q = 0; q < queries; ++q) {
        const int64_t track = res->track_id(rng() % rows);
        const auto [r0, r1] = res->rows_of_track(track);
        std::vector<int64_t> ids;
        for (size_t r = r0; r < r1; ++r) ids.push_back(res->vector_id(r));
        std::vector<std::vector<float>> raws, zs;
        for (auto& v : cat.vectors_by_id(Space::sections, ids)) raws.push_back(std::move(v.data));
        for (const auto& raw : raws) zs.push_back(se.standardize(raw));
        // Exact: every other track's best pair.
        std::unordered_map<int64_t, float> best;
        for (size_t r = 0; r < rows; ++r) {
            if (res->track_id(r) == track) continue;
            float b = 3.4e38f;
            for (const auto& z : zs) {
                float d = 0;
                for (size_t c = 0; c < dim; ++c) d += (z[c] - res->data(r)[c]) * (z[c] - res->data(r)[c]);
                b = std::min(b, d);
            }
            auto [it, fresh] = best.try_emplace(res->track_id(r), b);
            if (!fresh) it->second = std::min(it->second, b);
        }
        std::vector<std::pair<float, int64_t>> order;
        for (const auto& [t, d] : best) order.emplace_back(d, t);
        std::partial_sort(order.begin(), order.begin() + 10, order.end());
        std::unordered_set<int64_t> truth;
        for (size_t i = 0; i < 10; ++i) truth.insert(order[i].second);
        auto score = [&](int way, const std::vector<store::VectorHit>& hits) {
            std::unordered_set<int64_t> got;
            for (const auto& h : hits) got.insert(h.track_id);
            for (int64_t t : truth) found[way] += got.count(t);
        };
        auto t0 = Clock::now();
        std::vector<store::VectorHit> each;
        for (const auto& raw : raws) {
            auto h = se.search(raw, 52);
            each.insert(each.end(), h.begin(), h.end());
        }
        us[0] += std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
        score(0, each);
        for (int way = 1; way <= 2; ++way) {
            t0 = Clock::now();
            const auto hits = se.search(raws, way == 1 ? 104 : 416);
            us[way] += std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
            score(way, hits);
        }
        ++asked;
    }
    char buf[200];
    std::snprintf(buf, sizeof buf, "%.0f us, %.3f | %.0f us, %.3f | %.0f us, %.3f", us[0] / asked, found[0] / (10.0 * asked), us[1] / asked,
                  found[1] / (10.0 * asked), us[2] / asked, found[2] / (10.0 * asked));
    return buf;
}

std::string queries_file(const std::string& work, int n, int count, uint32_t seed) {
    const std::string path = work + "/queries-" + std::to_string(n) + "-" + std::to_string(count) + ".jsonl";
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> pick(1, n);
    std::ostringstream out;
    for (int i = 0; i < count; ++i) out << "{\"id\":" << i << ",\"track\":" << pick(rng) << "}\n";
    core::write_file_atomically(path, out.str());
    return path;
}

}  // namespace

constexpr const char* k_usage =
    "bench_scale: query cost as the catalog grows: rebuild, match --track, db stats, match --queries, recall@10, the Qdrant stand-in,\n"
    "             and the search floor (hnswlib's own search: the most track queries per second any plan searching each index once gets).\n"
    "usage: bench_scale [--sizes N,N,...] [--sections S] [--tracks-only N] [--runs R] [--batch B] [--jobs J] [--qdrant-max N]\n"
    "                   [--real DB] [--music DIR] [--work DIR]\n"
    "  --sizes        catalog sizes in tracks (default 10000,100000,1000000)\n"
    "  --sections     sections per track (default 8)\n"
    "  --tracks-only  sizes from N up get no sections (default 1000000)\n"
    "  --runs         match --track runs per size, ids spread through the catalog; p50 reported (default 7)\n"
    "  --batch        track queries in the match --queries run (default 2000)\n"
    "  --jobs         index rebuild --jobs (default: all cores)\n"
    "  --qdrant-max   sizes up to N are also synced to the Qdrant stand-in and queried there (default 10000)\n"
    "  --real         the real catalog whose covariance the vectors follow (default: the Debian songs of\n"
    "                 bench_sketch, ingested into WORK/debian-songs-6.db from --music)\n"
    "  --music        where scripts/fetch-music.sh put the packages (default ~/.cache/hitdna/music)\n"
    "  --work         catalogs (default /tmp/hitdna-bench-scale; kept between runs, rebuilt when missing)\n";

int main(int argc, char** argv) {
    if (argc >= 4 && std::string(argv[1]) == "--spawn-child") return spawn_child(argv);
    if (bench::wants_help(argc, argv)) return bench::print_usage(k_usage, true);
    std::vector<int> sizes = {10000, 100000, 1000000};
    int sections = 8, runs = 7, batch = 2000, jobs = 0, tracks_only = 1000000, qdrant_max = 10000;
    std::string work = "/tmp/hitdna-bench-scale", real, music = std::string(std::getenv("HOME") ? std::getenv("HOME") : "/root") + "/.cache/hitdna/music";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        const char* v = argv[i + 1];
        if (a == "--sizes") {
            sizes.clear();
            std::stringstream ss(v);
            for (std::string x; std::getline(ss, x, ',');) sizes.push_back(std::atoi(x.c_str()));
        } else if (a == "--sections") sections = std::atoi(v);
        else if (a == "--tracks-only") tracks_only = std::atoi(v);
        else if (a == "--runs") runs = std::max(1, std::atoi(v));
        else if (a == "--batch") batch = std::max(1, std::atoi(v));
        else if (a == "--jobs") jobs = std::max(0, std::atoi(v));
        else if (a == "--qdrant-max") qdrant_max = std::atoi(v);
        else if (a == "--real") real = v;
        else if (a == "--music") music = v;
        else if (a == "--work") work = v;
        else return bench::print_usage(k_usage, false);
    }
    try {
        fs::create_directories(work);
        real = bench::debian_songs_catalog(HITDNA_BIN, "bench_scale", real, music, work,
                                           {"singularity-music", "openclonk-data", "nexuiz-music", "starfighter-data", "planetblupi-music-ogg", "pushover-data"},
                                           "debian-songs-6.db");
        Model model;
        {
            store::Catalog rc(real, store::Catalog::Mode::read_only);
            model.fit(rc);
        }
        std::printf("vectors: Gaussian with the mean and covariance of %s (%zu tracks, %zu sections; tracks: %zu dims jointly; sections: %zu dims, between + within track)\n\n",
                    real.c_str(), model.real_tracks, model.real_sections, std::accumulate(model.track_dims.begin(), model.track_dims.end(), size_t(0)),
                    model.section_dim);
        std::printf("| tracks | sections | index rebuild (--jobs %s) | match --track -k 10: p50 cold / first run / run again, peak RSS | db stats: p50, peak RSS | match --queries (%d tracks): q/s, peak RSS | recall@10 held out: audio / structure / emotion / production / sections | Qdrant stand-in: sync, match --track p50, batch q/s |\n|---|---|---|---|---|---|---|---|\n",
                    jobs ? std::to_string(jobs).c_str() : "all cores", batch);
        std::vector<std::string> floor_rows, sections_rows;
        const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
        for (int n : sizes) {
            const int secs = n >= tracks_only ? 0 : sections;
            const std::string db = work + "/cov-" + std::to_string(n) + "x" + std::to_string(secs) + ".db";
            const std::string rebuild_file = db + ".rebuild_s";
            if (!fs::exists(db)) {
                build_catalog(db, model, n, secs);
                fs::remove(rebuild_file);
            }
            if (!fs::exists(rebuild_file)) {
                std::vector<std::string> args = {"index", "rebuild", "--db", db};
                if (jobs) args.insert(args.end(), {"--jobs", std::to_string(jobs)});
                const Run r = run_hitdna(args);
                if (r.status != 0) throw Error(ErrorKind::internal, "index rebuild failed (status " + std::to_string(r.status) + ")");
                core::write_file_atomically(rebuild_file, std::to_string(r.wall_s) + "\n");
            }
            double rebuild_s = 0;
            std::ifstream(rebuild_file) >> rebuild_s;
            std::vector<std::vector<std::string>> match_args, stats_args;
            for (int i = 0; i < runs; ++i) {
                const int id = 1 + int((int64_t(i) * 7919 + 5) % n);
                match_args.push_back({"match", "--track", std::to_string(id), "-k", "10", "--db", db, "-f", "json"});
                stats_args.push_back({"db", "stats", "--db", db, "-f", "json"});
            }
            const double m_cold = cold_p50(match_args, db);
            double m_again = 0;
            const Run m = p50_of(match_args, &m_again);
            const Run st = p50_of(stats_args);
            const std::string qf = queries_file(work, n, batch, 17);
            run_hitdna({"match", "--queries", qf, "--db", db}, "/dev/null");  // warm
            const Run b = run_hitdna({"match", "--queries", qf, "--db", db});
            // The same batch without the sections: what a batch that leaves them out gets.
            const Run bt = secs ? run_hitdna({"match", "--queries", qf, "--db", db, "--space", "audio,structure,emotion,production"}) : b;
            if (m_cold < 0 || m.status != 0 || st.status != 0 || b.status != 0 || bt.status != 0)
                throw Error(ErrorKind::internal, "a query failed (match " + std::to_string(m_cold < 0 ? -1 : m.status) + ", stats " + std::to_string(st.status) + ", batch " +
                                                     std::to_string(b.status) + ", batch without sections " + std::to_string(bt.status) + ")");
            std::string recalls;
            {
                store::Catalog cat(db, store::Catalog::Mode::read_only);
                for (Space s : dna::k_spaces) {
                    char buf[32];
                    if (s == Space::sections && secs == 0) std::snprintf(buf, sizeof buf, "-");
                    else if (const double r = recall_at_10(cat, model, s, 200); r < 0) std::snprintf(buf, sizeof buf, "no index");
                    else std::snprintf(buf, sizeof buf, "%.3f", r);
                    recalls += (recalls.empty() ? "" : " / ") + std::string(buf);
                }
            }
            std::string peer = "(above --qdrant-max)";
            if (n <= qdrant_max) {
                test::FakeQdrant q({"--validate-every", "50"});
                const Run sync = run_hitdna({"sync", "qdrant", "--db", db, "--url", q.url()});
                std::vector<std::vector<std::string>> qargs = match_args;
                for (auto& a : qargs) a.insert(a.end(), {"--backend", "qdrant", "--qdrant-url", q.url()});
                const Run qm = p50_of(qargs);
                const int qn = std::min(batch, 50);  // the stand-in searches exactly, in Python
                const std::string qqf = queries_file(work, n, qn, 17);
                const Run qb = run_hitdna({"match", "--queries", qqf, "--db", db, "--backend", "qdrant", "--qdrant-url", q.url()});
                char buf[160];
                if (sync.status != 0 || qm.status != 0 || qb.status != 0)
                    std::snprintf(buf, sizeof buf, "failed (sync %d, match %d, batch %d)", sync.status, qm.status, qb.status);
                else
                    std::snprintf(buf, sizeof buf, "%.0f s, %.0f ms, %.0f q/s (%d queries)", sync.wall_s, qm.wall_s * 1e3, qn / qb.wall_s, qn);
                peer = buf;
            }
            std::printf("| %d | %d each | %.0f s | %.0f ms / %.0f ms / %.0f ms, %.0f MB | %.0f ms, %.0f MB | %.0f q/s, %.0f MB | %s | %s |\n", n, secs, rebuild_s,
                        m_cold * 1e3, m.wall_s * 1e3, m_again * 1e3, m.max_rss_kb / 1024.0, st.wall_s * 1e3, st.max_rss_kb / 1024.0, batch / b.wall_s, b.max_rss_kb / 1024.0, recalls.c_str(), peer.c_str());
            std::fflush(stdout);
            {
                store::Catalog cat(db, store::Catalog::Mode::read_only);
                std::string per;
                double floor_us = 0;
                bool complete = true;
                for (Space s : dna::k_spaces) {
                    if (s == Space::sections && secs == 0) {
                        per += " / -";
                        continue;
                    }
                    const double us = hnswlib_us_per_search(cat, s, 1000);
                    char buf[32];
                    std::snprintf(buf, sizeof buf, us < 0 ? " / no index" : " / %.0f", us);
                    per += buf;
                    if (us < 0) complete = false;
                    else floor_us += us * (s == Space::sections ? secs : 1);
                }
                char row[320], measured[64];
                std::snprintf(measured, sizeof measured, "%.0f q/s; track spaces only %.0f q/s", batch / b.wall_s, batch / bt.wall_s);
                if (complete)
                    std::snprintf(row, sizeof row, "| %d | %s | %.2f ms | %.0f q/s | %s |", n, per.substr(3).c_str(), floor_us / 1e3, cores * 1e6 / floor_us, measured);
                else
                    std::snprintf(row, sizeof row, "| %d | %s | - | - | %s |", n, per.substr(3).c_str(), measured);
                floor_rows.push_back(row);
                if (secs) sections_rows.push_back("| " + std::to_string(n) + " | " + sections_one_search(db, 100) + " |");
            }
        }
        std::printf("\nSearch floor: hnswlib 0.6.2 searchKnn, index in memory, each index's tuned ef, stored vectors as queries; a track query searches each track space once "
                    "and the sections index once per section (%d).\n\n| tracks | hnswlib us per search: audio / structure / emotion / production / sections | "
                    "a track query's searches at the least | at most, on %u cores | match --queries measured (above; --space audio,structure,emotion,production) |\n|---|---|---|---|---|\n",
                    sections, cores);
        for (const auto& r : floor_rows) std::printf("%s\n", r.c_str());
        std::printf("\nA track query's section searches (100 tracks' sections as queries, in-process, index mapped, hits from resident vectors): "
                    "microseconds per track query and the share of the 10 tracks with the nearest best section pair (exact) among the hits.\n\n"
                    "| tracks | each section alone, 52 hits each | all sections in one search, 104 hits | all sections in one search, 416 hits |\n|---|---|---|---|\n");
        for (const auto& r : sections_rows) std::printf("%s\n", r.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_scale: %s\n", e.what());
        return 1;
    }
    return 0;
}
