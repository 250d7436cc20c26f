#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/qdrant/sync.hpp"

namespace hitdna::cli {

Runner register_sync(CLI::App& app) {
    struct State {
        qdrant::SyncOptions o;
        std::string db, url, progress = "auto";
        Format format{{"text", "json"}};
        double timeout_s = 120;
        int retries = 5;
    };
    auto st = std::make_shared<State>();
    if (const char* c = std::getenv("QDRANT_COLLECTION"); c && *c) st->o.collection = c;
    app.require_subcommand(1);
    auto* q = app.add_subcommand("qdrant", "Mirror the catalog into Qdrant collections NAME and NAME_sections");
    q->add_option("--url", st->url, "Qdrant REST endpoint (default: $QDRANT_URL, else http://localhost:6333); the key comes from $QDRANT_API_KEY");
    q->add_option("--collection", st->o.collection, "Tracks collection NAME; sections go to NAME_sections (default: $QDRANT_COLLECTION, else hitdna)");
    q->add_flag("--full", st->o.full, "Re-send every track, with freshly computed standardization statistics, and delete stray points");
    q->add_flag("--recreate", st->o.recreate, "Drop both collections and build them again (after an analyzer change of vector sizes)");
    q->add_flag("--dry-run", st->o.dry_run, "Read the server's state, send no writes; print what would be sent");
    q->add_option("--batch-points", st->o.batch_points, "Points per upsert request (default 128)")->check(CLI::Range(1, 10000));
    q->add_option("--batch-bytes", st->o.batch_bytes, "Bytes per request at most (default 8 MiB; Qdrant refuses more than 32 MiB)")
        ->check(CLI::Range(size_t(4096), size_t(32) << 20));
    q->add_option("--timeout", st->timeout_s, "Seconds per request before it is retried (default 120)")->check(CLI::Range(1.0, 3600.0));
    q->add_option("--retries", st->retries, "Retries of 408/429/503 and dropped connections (default 5)")->check(CLI::Range(0, 20));
    q->add_option("--progress", st->progress, "Progress line: auto (on a terminal), always, never")->check(CLI::IsMember({"auto", "always", "never"}));
    add_format_option(*q, st->format);
    q->add_option("--db", st->db, "Catalog database (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    app.footer("Exit status: 0 synced (or nothing to do), 2 usage (e.g. a collection of another catalog), 5 database error,\n"
               "6 network or timeout, 7 Qdrant refused a request. See man hitdna-sync.");
    return [st]() -> int {
        auto& o = st->o;
        qdrant::Config cfg = qdrant::config_from_env(st->url);
        cfg.timeout_s = st->timeout_s;
        cfg.max_retries = st->retries;
        qdrant::Client client(cfg);
        const std::string path = store::resolve_db_path(st->db);
        if (!store::catalog_exists(path)) throw Error(ErrorKind::db, path + ": no database here (run 'hitdna ingest' first, or pass --db)");
        store::Catalog cat(path, store::Catalog::Mode::read_write);
        const bool progress = st->progress == "always" || (st->progress == "auto" && isatty(STDERR_FILENO) && !o.dry_run);
        const auto t0 = std::chrono::steady_clock::now();
        auto last = t0;
        if (progress)
            o.progress = [&](int64_t done, int64_t total) {
                const auto now = std::chrono::steady_clock::now();
                if (done < total && now - last < std::chrono::milliseconds(200)) return;
                last = now;
                const double s = std::chrono::duration<double>(now - t0).count();
                const double rate = s > 0 ? double(done) / s : 0;
                std::fprintf(stderr, "\rsync %lld/%lld changes  %.0f tracks/s  ETA %.0f s   ", (long long)done, (long long)total, rate,
                             rate > 0 ? double(total - done) / rate : 0.0);
                if (done >= total) std::fprintf(stderr, "\n");
            };
        const std::string fmt = st->format.resolve();
        if (o.dry_run) o.plan = fmt == "json" ? &std::cerr : &std::cout;  // stdout stays one JSON document
        o.warn = &std::cerr;
        auto rep = qdrant::run_sync(cat, client, o);
        if (fmt == "json") {
            std::cout << qdrant::to_json(rep).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
            return 0;
        }
        if (rep.changes == 0 && !rep.created && rep.stale_deleted == 0) {
            std::printf("%s/collections/%s is up to date with the catalog (generation %lld); nothing %s\n", rep.url.c_str(), rep.tracks_collection.c_str(),
                        (long long)rep.generation, rep.dry_run ? "would be sent" : "sent");
            return 0;
        }
        std::printf("%s %lld tracks (%lld section points), %s %lld%s%s, to %s/collections/%s and %s in %.1f s "
                    "(%.0f tracks/s, %lld requests, %lld retries, %.1f MB sent)\n",
                    rep.dry_run ? "would upsert" : "upserted", (long long)rep.tracks_upserted, (long long)rep.sections_upserted,
                    rep.dry_run ? "would delete" : "deleted", (long long)rep.tracks_deleted,
                    rep.already_landed ? (", " + std::to_string(rep.already_landed) + " found already landed").c_str() : "",
                    rep.stale_deleted ? (", " + std::to_string(rep.stale_deleted) + " stray points removed").c_str() : "", rep.url.c_str(),
                    rep.tracks_collection.c_str(), rep.sections_collection.c_str(), rep.seconds, rep.seconds > 0 ? double(rep.tracks_upserted) / rep.seconds : 0.0,
                    (long long)rep.requests, (long long)rep.retries, double(rep.bytes_sent) / 1e6);
        return 0;
    };
}

}  // namespace hitdna::cli
