// bench_catalog: the Hit DNA database measured in one run.
//   1. Ingest of real recordings (Debian's freely licensed music): catalog + index bytes per
//      track, and the catalog/index work as a share of the analysis time.
//   2. Excerpt test: a 25 s excerpt of every annotated song, tempo-shifted +-3 % (pitch kept)
//      and re-encoded as MP3 128 kb/s by ffmpeg, must find its source song among the catalog
//      of those songs plus every other audio file of the music packages fetched (distractors;
//      the packages reserved for independent evaluation are never read). Rank-1 rate beside
//      Chromaprint (Debian's libchromaprint-tools): `fpcalc -raw -length 0` fingerprints every
//      catalog file and each excerpt, and an excerpt's score for a song is the mean, over its
//      4 s blocks, of the best bit agreement at any offset in that song (each block aligned
//      apart, so that a 3 % tempo change costs Chromaprint as little as it can).
//   3. Index at scale: N (default 1 M) vectors of the audio-vector size drawn with the
//      covariance of the real catalog's standardized vectors; build rate, memory, tuned ef,
//      recall@10 against exact search and one-thread latency, with the exact scan as the peer.
#include <sys/resource.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "usage.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/core/subprocess.hpp"
#include "hitdna/ingest/ingest.hpp"
#include "hitdna/match/match.hpp"
#include "hitdna/store/hnsw_build.hpp"
#include "hitdna/store/hash.hpp"
#include "hitdna/store/vector_index.hpp"

namespace fs = std::filesystem;
using namespace hitdna;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

long rss_kb() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
    return 0;
}

int64_t dir_bytes(const std::string& dir) {
    int64_t b = 0;
    std::error_code ec;
    if (!fs::exists(dir, ec)) return 0;
    for (auto& e : fs::recursive_directory_iterator(dir, ec))
        if (e.is_regular_file(ec)) b += int64_t(e.file_size(ec));
    return b;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p / 100.0 * double(v.size() - 1) + 0.5))];
}

std::vector<std::string> real_songs(const std::string& music, const std::string& annotations) {
    std::ifstream in(annotations);
    if (!in) throw Error(ErrorKind::io, annotations + ": cannot read");
    std::vector<std::string> out;
    std::string line;
    bool header = true;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (header) { header = false; continue; }
        std::vector<std::string> col;
        std::stringstream ss(line);
        std::string c;
        while (std::getline(ss, c, '\t')) col.push_back(c);
        if (col.size() < 2) continue;
        std::string rel = col[1];
        if (auto colon = rel.find(".pk3:"); colon != std::string::npos) rel = rel.substr(0, colon + 4) + ".d/" + rel.substr(colon + 5);
        std::string path = music + "/" + col[0] + "/" + rel;
        if (fs::exists(path)) out.push_back(path);
    }
    return out;
}

struct ExcerptScore {
    int n = 0, top1 = 0, top5 = 0;
    double rr = 0;
    void add(int rank) {
        ++n;
        top1 += rank == 1;
        top5 += rank >= 1 && rank <= 5;
        rr += rank >= 1 ? 1.0 / rank : 0;
    }
};

// Packages named in the project's rules as reserved for independent evaluation: never read.
bool reserved_package(const std::string& name) {
    return name == "openttd-openmsx" || name == "pingus-data" || name == "tecnoballz-data";
}

// Every audio file under the music directory (one folder per package), the reserved packages
// excepted, sorted.
std::vector<std::string> all_audio(const std::string& music) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& pkg : fs::directory_iterator(music, ec)) {
        if (!pkg.is_directory() || reserved_package(pkg.path().filename().string())) continue;
        for (const auto& e : fs::recursive_directory_iterator(pkg.path(), ec)) {
            if (!e.is_regular_file(ec)) continue;
            std::string ext = e.path().extension().string();
            std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
            if (ext == ".ogg" || ext == ".opus" || ext == ".mp3" || ext == ".flac" || ext == ".wav") out.push_back(e.path().string());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

// `fpcalc -raw -length 0 FILE`: the whole file's raw Chromaprint fingerprint (empty if none).
std::vector<uint32_t> fpcalc_raw(const std::string& fpcalc, const std::string& path) {
    auto r = core::run_process({fpcalc, "-raw", "-length", "0", path}, 300);
    std::vector<uint32_t> fp;
    auto at = r.out.find("FINGERPRINT=");
    if (at == std::string::npos) return fp;
    std::istringstream in(r.out.substr(at + 12));
    std::string item;
    while (std::getline(in, item, ',')) fp.push_back(uint32_t(std::strtoul(item.c_str(), nullptr, 10)));
    return fp;
}

// Chromaprint's similarity of a query to a reference: the query cut into blocks of 32 items
// (~4 s); each block's best bit agreement (1 - bit errors / bits) at any offset in the
// reference; their mean.
double chromaprint_score(const std::vector<uint32_t>& q, const std::vector<uint32_t>& ref) {
    constexpr size_t k_block = 32;
    if (q.size() < k_block || ref.size() < k_block) return 0;
    double sum = 0;
    int blocks = 0;
    for (size_t b = 0; b + k_block <= q.size(); b += k_block, ++blocks) {
        int best = 32 * int(k_block);
        for (size_t off = 0; off + k_block <= ref.size(); ++off) {
            int err = 0;
            for (size_t i = 0; i < k_block && err < best; ++i) err += __builtin_popcount(q[b + i] ^ ref[off + i]);
            best = std::min(best, err);
        }
        sum += 1.0 - double(best) / (32.0 * k_block);
    }
    return blocks ? sum / blocks : 0;
}

}  // namespace

constexpr const char* k_usage =
    "bench_catalog: HNSW recall and latency at scale, and excerpt identification beside Chromaprint's fpcalc.\n"
    "usage: bench_catalog [--music DIR] [--annotations TSV] [--work DIR] [--index-n N] [--queries Q] [--M M] [--efc EF]\n                     [--excerpt-s S] [--seed N] [--no-excerpt] [--no-index] [-v]\n";

int main(int argc, char** argv) {
    if (bench::wants_help(argc, argv)) return bench::print_usage(k_usage, true);
    std::string music = std::getenv("HITDNA_MUSIC_DIR") ? std::getenv("HITDNA_MUSIC_DIR")
                                                         : std::string(std::getenv("HOME") ? std::getenv("HOME") : "/tmp") + "/.cache/hitdna/music";
    std::string annotations = std::string(HITDNA_SOURCE_DIR) + "/data/eval/tempo_real.tsv";
    std::string work = "bench-catalog";
    size_t index_n = 1000000, n_queries = 1000;
    int hnsw_m = store::k_hnsw_m, hnsw_efc = store::k_hnsw_ef_construction;
    double excerpt_s = 25;
    unsigned seed = 20261130;
    bool do_excerpt = true, do_index = true, verbose = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << a << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--music") music = next();
        else if (a == "--annotations") annotations = next();
        else if (a == "--work") work = next();
        else if (a == "--index-n") index_n = size_t(std::atoll(next().c_str()));
        else if (a == "--queries") n_queries = size_t(std::atoll(next().c_str()));
        else if (a == "--excerpt-s") excerpt_s = std::atof(next().c_str());
        else if (a == "--seed") seed = unsigned(std::atol(next().c_str()));
        else if (a == "--M") hnsw_m = std::atoi(next().c_str());
        else if (a == "--efc") hnsw_efc = std::atoi(next().c_str());
        else if (a == "--no-excerpt") do_excerpt = false;
        else if (a == "--no-index") do_index = false;
        else if (a == "-v") verbose = true;
        else {
            return bench::print_usage(k_usage, false);
        }
    }
    fs::create_directories(work);
    const std::string db_path = work + "/bench.db";
    Eigen::MatrixXd cov = Eigen::MatrixXd::Identity(28, 28);
    try {
        if (do_excerpt) {
            auto songs = real_songs(music, annotations);
            if (songs.size() < 50) {
                std::cerr << "bench_catalog: " << songs.size() << " songs under " << music << "; run scripts/fetch-music.sh --eval first\n";
                return 2;
            }
            for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db_path + suffix);
            fs::remove_all(db_path + ".hnsw");
            // Distractors: every other audio file of the fetched packages.
            std::vector<std::string> distractors;
            for (const auto& f : all_audio(music))
                if (std::find(songs.begin(), songs.end(), f) == songs.end()) distractors.push_back(f);
            // ---- 1. ingest ----
            store::Catalog cat(db_path, store::Catalog::Mode::read_write);
            ingest::IngestOptions io;
            io.inputs = songs;
            io.inputs.insert(io.inputs.end(), distractors.begin(), distractors.end());
            std::ostringstream ingest_err;
            std::istringstream none;
            auto r = ingest::run_ingest(cat, io, none, ingest_err);
            if (r.failed) std::cerr << ingest_err.str();
            cat.checkpoint();  // sizes without the write-ahead log's copies
            auto cs = cat.catalog_stats();
            const int64_t idx_bytes = dir_bytes(db_path + ".hnsw");
            std::printf("## Ingest: %d files (%s): %zu annotated songs + %zu distractors, --jobs %u\n", r.added, music.c_str(), songs.size(),
                        distractors.size(), std::thread::hardware_concurrency());
            std::printf("wall %.1f s; analysis %.2f s, catalog (hash, lookups, commits) %.3f s, indexes %.3f s (summed over workers)\n", r.seconds,
                        r.analysis_s, r.store_s, r.index_s);
            std::printf("database + index work = %.2f %% of analysis time (goal <= 5 %%)\n", 100.0 * (r.store_s + r.index_s) / r.analysis_s);
            std::printf("footprint: catalog %.2f MB + WAL %.2f MB + indexes %.2f MB for %lld tracks, %lld sections = %.1f kB per track\n\n",
                        cs.file_bytes / 1e6, cs.wal_bytes / 1e6, idx_bytes / 1e6, (long long)cs.tracks, (long long)cs.sections,
                        (cs.file_bytes + cs.wal_bytes + idx_bytes) / 1e3 / double(std::max<int64_t>(1, cs.tracks)));
            // Real covariance of standardized audio vectors, for the index test.
            {
                auto st = cat.stats(dna::Space::audio);
                std::vector<std::vector<float>> zs;
                cat.for_each_vector(dna::Space::audio, 0, {}, [&](store::StoredVector&& v) { zs.push_back(st.standardize(v.data)); });
                Eigen::MatrixXd X(long(zs.size()), 28);
                for (size_t i = 0; i < zs.size(); ++i)
                    for (int d = 0; d < 28; ++d) X(long(i), d) = zs[i][size_t(d)];
                Eigen::MatrixXd C = X.rowwise() - X.colwise().mean();
                cov = (C.transpose() * C) / double(std::max<long>(1, X.rows() - 1));
            }
            // ---- 2. excerpts ----
            const std::string ffmpeg = core::find_executable("ffmpeg");
            if (ffmpeg.empty()) throw Error(ErrorKind::usage, "ffmpeg is needed for the excerpt test");
            fs::create_directories(work + "/excerpts");
            // The peer's reference fingerprints: every catalog file, whole.
            const std::string fpcalc = core::find_executable("fpcalc");
            std::vector<std::pair<std::string, std::vector<uint32_t>>> refs;
            double fp_s = 0;
            if (fpcalc.empty()) std::cerr << "bench_catalog: fpcalc not found (apt-get install libchromaprint-tools); Chromaprint column empty\n";
            else {
                auto t0 = Clock::now();
                for (const auto& f : io.inputs) refs.push_back({f, fpcalc_raw(fpcalc, f)});
                fp_s = since(t0);
            }
            int long_distractors = 0;
            ExcerptScore all, tracks_only, sections_only, chromaprint;
            std::vector<double> query_s;
            std::mt19937 rng(seed);
            int idx = 0;
            for (const auto& song : songs) {
                auto row = cat.find_by_hash(store::hash_file(song));
                if (!row) continue;
                const double tempo = (idx++ % 2) ? 1.03 : 0.97;
                const double in_len = excerpt_s * tempo;
                if (row->duration_s < in_len + 2) continue;
                const double off = std::uniform_real_distribution<double>(0, row->duration_s - in_len)(rng);
                const std::string out = work + "/excerpts/" + std::to_string(row->id) + ".mp3";
                char ss[32], tt[32], at[32];
                std::snprintf(ss, sizeof ss, "%.2f", off);
                std::snprintf(tt, sizeof tt, "%.2f", in_len);
                std::snprintf(at, sizeof at, "atempo=%.2f", tempo);
                auto pr = core::run_process({ffmpeg, "-v", "error", "-y", "-ss", ss, "-t", tt, "-i", song, "-af", at, "-c:a", "libmp3lame", "-b:a", "128k", out}, 120);
                if (pr.exit_code != 0) throw Error(ErrorKind::io, out + ": ffmpeg failed: " + pr.err);
                auto rank_of = [&](const std::vector<dna::Space>& spaces) {
                    match::MatchOptions mo;
                    mo.like_file = out;
                    mo.k = 10;
                    mo.spaces = spaces;
                    std::ostringstream warn;
                    auto t0 = Clock::now();
                    auto rep = match::run_match(cat, mo, warn);
                    if (spaces.empty()) query_s.push_back(since(t0));
                    for (const auto& m : rep.results)
                        if (m.track.id == row->id) return m.rank;
                    return 0;
                };
                int r_all = rank_of({});
                all.add(r_all);
                tracks_only.add(rank_of({dna::Space::audio, dna::Space::structure, dna::Space::emotion, dna::Space::production}));
                sections_only.add(rank_of({dna::Space::sections}));
                if (!refs.empty()) {
                    const auto q = fpcalc_raw(fpcalc, out);
                    double own = -1;
                    std::vector<double> scores;
                    for (const auto& [path, fp] : refs) {
                        const double sc = chromaprint_score(q, fp);
                        if (path == song) own = sc;
                        else scores.push_back(sc);
                    }
                    // Rank: 1 + the references scoring strictly higher (ties go to the peer).
                    chromaprint.add(own < 0 ? 0 : 1 + int(std::count_if(scores.begin(), scores.end(), [&](double x) { return x > own; })));
                }
                if (verbose || r_all != 1)
                    std::printf("  %s %s @%.1f s x%.2f: rank %d\n", r_all == 1 ? "ok  " : "MISS", song.c_str(), off, tempo, r_all);
            }
            auto line = [](const char* name, const ExcerptScore& s) {
                std::printf("| %-34s | %3d | %5.1f %% | %5.1f %% | %.3f |\n", name, s.n, 100.0 * s.top1 / std::max(1, s.n), 100.0 * s.top5 / std::max(1, s.n),
                            s.rr / std::max(1, s.n));
            };
            for (const auto& f : distractors)
                if (auto row = cat.find_by_hash(store::hash_file(f)); row && row->duration_s >= 30) ++long_distractors;
            std::printf("\n## Excerpts (offsets from seed %u): %.0f s, tempo x0.97/x1.03 (ffmpeg atempo, pitch kept), MP3 128 kb/s (libmp3lame)\n", seed, excerpt_s);
            std::printf("catalog: %zu annotated songs + %zu distractors (%d of them 30 s or longer)\n", songs.size(), distractors.size(), long_distractors);
            std::printf("| query spaces                       |   n | rank 1  | top 5   | MRR   |\n|---|---|---|---|---|\n");
            line("all (default weights), hitdna", all);
            line("track spaces only (peer)", tracks_only);
            line("sections only (peer)", sections_only);
            if (!refs.empty()) line("Chromaprint fpcalc -raw (peer)", chromaprint);
            std::printf("query time (analysis of the excerpt + search): median %.3f s; Chromaprint: %.1f s to fingerprint the catalog (hitdna's ingest: %.1f s)\n\n",
                        percentile(query_s, 50), fp_s, r.seconds);
        }
        // ---- 3. the index at scale ----
        if (do_index) {
            const size_t dim = 28, n = index_n;
            Eigen::LLT<Eigen::MatrixXd> llt(cov + 1e-3 * Eigen::MatrixXd::Identity(28, 28));
            Eigen::MatrixXf L = Eigen::MatrixXd(llt.matrixL()).cast<float>();
            std::mt19937 rng(42);
            std::normal_distribution<float> g(0, 1);
            auto sample = [&](std::vector<float>& out, size_t count) {
                out.resize(count * dim);
                Eigen::VectorXf z = Eigen::VectorXf::Zero(Eigen::Index(dim));
                for (size_t i = 0; i < count; ++i) {
                    for (size_t d = 0; d < dim; ++d) z(long(d)) = g(rng);
                    Eigen::VectorXf x = L * z;
                    for (size_t d = 0; d < dim; ++d) out[i * dim + d] = x(long(d));
                }
            };
            std::vector<float> data, queries;
            sample(data, n);
            sample(queries, n_queries);
            std::vector<int64_t> labels(n);
            std::iota(labels.begin(), labels.end(), 0);
            const long rss0 = rss_kb();
            store::HnswGraph h(dim, n, hnsw_m, hnsw_efc);
            const int threads = int(std::max(1u, std::thread::hardware_concurrency()));
            auto tb = Clock::now();
            auto [ef, tuned] = h.build(data, labels, threads);
            const double build_s = since(tb);
            const long rss1 = rss_kb();
            const std::string ipath = work + "/bench.hnsw";
            h.save(ipath);
            const int64_t ibytes = int64_t(fs::file_size(ipath));
            fs::remove(ipath);
            // Exact search (the peer) and HNSW at the tuned ef, one thread.
            // The peer: exact search, one thread; its answers are the truth.
            std::vector<double> t_exact;
            std::vector<std::vector<int64_t>> truth(n_queries);
            for (size_t q = 0; q < n_queries; ++q) {
                const float* x = queries.data() + q * dim;
                auto t1 = Clock::now();
                std::vector<std::pair<float, int64_t>> best;
                best.reserve(11);
                for (size_t i = 0; i < n; ++i) {
                    const float* y = data.data() + i * dim;
                    float d = 0;
                    for (size_t k = 0; k < dim; ++k) {
                        float t = x[k] - y[k];
                        d += t * t;
                    }
                    if (best.size() < 10 || d < best.back().first) {
                        best.emplace_back(d, int64_t(i));
                        std::sort(best.begin(), best.end());
                        if (best.size() > 10) best.pop_back();
                    }
                }
                t_exact.push_back(since(t1) * 1e3);
                for (auto& b : best) truth[q].push_back(b.second);
            }
            std::printf("## Index: %zu vectors x %zu dims (audio-vector size), covariance of the real catalog's standardized vectors\n", n, dim);
            std::printf("HNSW M=%d, ef_construction=%d, %d build threads: build with ef tuning %.1f s = %.0f vectors/s -> ef %d (recall@10 %.3f on 200 held-out rows)\n",
                        hnsw_m, hnsw_efc, threads, build_s, double(n) / build_s, ef, tuned);
            std::printf("memory: index file %.1f MB (%.0f bytes/vector); RSS +%.1f MB while building (raw vectors %.1f MB)\n", ibytes / 1e6,
                        double(ibytes) / double(n), (rss1 - rss0) / 1e3, double(n * dim * 4) / 1e6);
            std::printf("| %zu held-out queries, k=10, one thread | recall@10 | p50 ms | p99 ms |\n|---|---|---|---|\n", n_queries);
            std::vector<int> efs = {32, 64, 128, 256};
            if (std::find(efs.begin(), efs.end(), ef) == efs.end()) efs.push_back(ef);
            std::sort(efs.begin(), efs.end());
            double tuned_p50 = 0;
            for (int e : efs) {
                h.set_ef(size_t(e));
                std::vector<double> t_hnsw;
                size_t hits = 0;
                for (size_t q = 0; q < n_queries; ++q) {
                    auto t0 = Clock::now();
                    auto got = h.search(queries.data() + q * dim, 10);
                    t_hnsw.push_back(since(t0) * 1e3);
                    for (auto& b : truth[q])
                        for (auto& gg : got) hits += gg.second == b;
                }
                if (e == ef) tuned_p50 = percentile(t_hnsw, 50);
                std::printf("| HNSW, ef %3d%s | %.4f | %.3f | %.3f |\n", e, e == ef ? " (tuned, what hitdna uses)" : "", double(hits) / double(n_queries * 10),
                            percentile(t_hnsw, 50), percentile(t_hnsw, 99));
            }
            std::printf("| exact scan (peer) | 1.0000 | %.3f | %.3f |\n", percentile(t_exact, 50), percentile(t_exact, 99));
            std::printf("speed-up at p50, tuned ef: %.0fx\n", percentile(t_exact, 50) / std::max(1e-9, tuned_p50));
        }
    } catch (const Error& e) {
        std::cerr << "bench_catalog: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
