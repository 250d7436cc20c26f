#pragma once
// The catalogs of Debian songs the benchmarks use (bench_brief, bench_sketch): the songs of
// packages fetched by scripts/fetch-music.sh, ingested once by the hitdna binary into the work
// directory. A catalog given with --db is used as it is.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "hitdna/core/error.hpp"
#include "hitdna/core/subprocess.hpp"

namespace hitdna::bench {

// The four packages bench_brief uses (and bench_sketch, with two more).
inline const std::vector<std::string>& four_packages() {
    static const std::vector<std::string> p = {"singularity-music", "openclonk-data", "nexuiz-music", "starfighter-data"};
    return p;
}

// The catalog of `packages` under `music`: WORK/NAME, ingested on first use.
inline std::string debian_songs_catalog(const std::string& hitdna_bin, const std::string& program, const std::string& db, const std::string& music,
                                        const std::string& work, const std::vector<std::string>& packages = four_packages(),
                                        const std::string& name = "debian-songs.db") {
    namespace fs = std::filesystem;
    if (!db.empty()) return db;
    const std::string path = work + "/" + name;
    if (fs::exists(path)) return path;
    std::vector<std::string> argv = {hitdna_bin, "ingest", "--db", path, "--progress", "never"};
    std::string names;
    for (const auto& pkg : packages) {
        names += " " + pkg;
        if (fs::exists(music + "/" + pkg)) argv.push_back(music + "/" + pkg);
    }
    if (argv.size() == 6) throw Error(ErrorKind::usage, "no songs under " + music + " (run scripts/fetch-music.sh" + names + ")");
    std::fprintf(stderr, "%s: ingesting the Debian songs into %s\n", program.c_str(), path.c_str());
    auto r = core::run_process(argv);
    if (r.exit_code != 0) throw Error(ErrorKind::io, "ingest failed: " + r.err);
    return path;
}

}  // namespace hitdna::bench
