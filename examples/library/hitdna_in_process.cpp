// hitdna as a library, without the command line: analyze a folder of songs, keep them in a
// catalog, find the songs closest to one of them, and turn a prompt into a target from the
// closest hits. It links hitdna_lib (every folder of lib/hitdna) and nothing else of hitdna.
//
//   build/examples/library/hitdna_in_process MUSIC_DIR "dark wide club track" [CATALOG.db]
//
// Without CATALOG.db the catalog is a temporary file removed at the end.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "hitdna/analysis/analyze.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/enrich/prompt.hpp"
#include "hitdna/ingest/charts.hpp"
#include "hitdna/match/match.hpp"
#include "hitdna/store/catalog.hpp"
#include "hitdna/store/hash.hpp"
#include "hitdna/store/vector_index.hpp"

namespace fs = std::filesystem;
using namespace hitdna;

int main(int argc, char** argv) {
    if (argc < 3 || argc > 4) {
        std::cerr << "usage: " << argv[0] << " MUSIC_DIR PROMPT [CATALOG.db]\n";
        return 2;
    }
    const std::string music = argv[1], prompt = argv[2];
    const fs::path tmp = fs::temp_directory_path() / ("hitdna-example-" + std::to_string(::getpid()));
    const std::string db = argc == 4 ? argv[3] : (tmp / "catalog.db").string();
    try {
        // 1. analyze: the four-layer DNA of every song, stored with its content hash.
        store::Catalog catalog(db, store::Catalog::Mode::read_write);
        std::vector<int64_t> ids;
        for (const auto& path : ingest::list_audio(music)) {
            const dna::Dna d = analysis::analyze_file(path);
            store::TrackMeta meta;
            meta.title = fs::path(path).stem().string();
            ids.push_back(catalog.put_track(store::hash_file(path), fs::absolute(path).string(), meta, d));
            std::cout << "analyzed " << meta.title << ": " << (d.audio.bpm ? std::to_string(int(*d.audio.bpm + 0.5)) + " BPM, " : "no beat, ")
                      << (d.audio.key.empty() ? "no key" : d.audio.key + " " + d.audio.mode) << ", " << d.structure.sections.size()
                      << " sections, " << d.production.integrated_lufs << " LUFS\n";
        }
        if (ids.empty()) throw Error(ErrorKind::usage, music + ": no audio files");
        store::VectorIndexes(catalog).update_all(std::cerr, argv[0]);  // HNSW indexes, as ingest makes them

        // 2. match: the catalog's songs closest to the first one (itself left out).
        match::MatchOptions query;
        query.track = std::to_string(ids.front());
        query.k = 3;
        const match::MatchReport hits = match::run_match(catalog, query, std::cerr);
        std::cout << "closest to track " << ids.front() << ":\n";
        for (const auto& r : hits.results) std::cout << "  " << r.rank << ". " << r.track.title << " (score " << r.score << ", 0..1)\n";

        // 3. enrich: the prompt becomes a target from the closest hits, and an enriched prompt.
        enrich::PromptOptions brief;
        brief.prompt = prompt;
        brief.db = db;
        brief.k = 3;
        const enrich::Target target = enrich::target_for_prompt(brief, std::cerr);
        std::cout << "target from " << target.hits.size() << " hits: " << target.bpm << " BPM, " << target.key << " " << target.mode << ", "
                  << target.sections.size() << " sections\n"
                  << enrich::enriched_prompt(target) << "\n";
    } catch (const Error& e) {
        std::cerr << argv[0] << ": " << e.what() << "\n";
        fs::remove_all(tmp);
        return exit_code_for(e.kind());
    }
    fs::remove_all(tmp);
    return 0;
}
