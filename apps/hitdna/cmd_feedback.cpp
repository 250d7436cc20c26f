#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "commands.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/learn/engagement.hpp"

namespace hitdna::cli {

Runner register_feedback(CLI::App& app) {
    struct State {
        learn::Event event;  // from the flags
        std::string events, db;
        double completion = -1;
        Format format{{"text", "json"}, "text", "json"};
    };
    auto st = std::make_shared<State>();
    app.footer(
        "Engagement score, 0..1: rates shrunk toward priors by 50 pseudo-plays (completion 0.5, likes\n"
        "0.05, shares 0.01, skips 0.25 per play), score = 0.4 c + 0.25 min(1, l/0.2) + 0.2 min(1, s/0.05)\n"
        "+ 0.15 (1 - min(1, k)); promoted into the learning set at >= 0.6 with >= 100 plays.\n"
        "Exit status: 0 every event applied (or already applied), 1 some events were rejected (listed by\n"
        "line; also an unknown track or an unreadable audio file), 2 usage, 3 the events file cannot be\n"
        "read, 5 database error.\n"
        "See man hitdna-feedback.");
    app.add_option("track", st->event.track, "Catalog track id, generation id (gen-...) or audio file");
    app.add_option("--events", st->events, "JSON Lines of events ({\"id\", \"track\", \"plays\", ...}), or - for stdin");
    app.add_option("--plays", st->event.plays, "Plays in this event (>= 0)");
    auto* completion = app.add_option("--completion", st->completion, "Share of each play that was heard, 0..1");
    app.add_option("--likes", st->event.likes, "Likes (>= 0)");
    app.add_option("--shares", st->event.shares, "Shares (>= 0)");
    app.add_option("--skips", st->event.skips, "Skips (>= 0)");
    app.add_option("--event-id", st->event.id, "Event id; the same id is applied once (default: a new random id)");
    app.add_option("--at", st->event.at, "When it happened, ISO 8601 (default now)");
    add_format_option(app, st->format);
    app.add_option("--db", st->db, "Catalog database (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    return [st, completion]() -> int {
        if (st->event.track.empty() == st->events.empty()) throw Error(ErrorKind::usage, "give a TRACK with counts, or --events FILE (one of them)");
        std::vector<learn::Event> events;
        std::vector<learn::Problem> problems;
        if (!st->events.empty()) {
            if (st->events == "-") {
                events = learn::parse_events(std::cin, problems);
            } else {
                std::ifstream in(st->events);
                if (!in) throw Error(ErrorKind::io, st->events + ": cannot read the events");
                events = learn::parse_events(in, problems);
            }
        } else {
            learn::Event e = st->event;
            if (completion->count() > 0) e.completion = st->completion;
            if (e.id.empty()) {
                std::random_device rd;
                char b[40];
                std::snprintf(b, sizeof b, "cli-%08x%08x", rd(), rd());
                e.id = b;
            }
            if (auto bad = learn::check_event(e); !bad.empty()) throw Error(ErrorKind::usage, bad);
            events.push_back(e);
        }
        store::Catalog cat(store::resolve_db_path(st->db), store::Catalog::Mode::read_write);
        auto rep = learn::record_feedback(cat, events, std::move(problems), {}, std::cerr);
        const auto& r = rep.result;
        const std::string where = st->events.empty() ? std::string("feedback") : (st->events == "-" ? "stdin" : st->events);
        for (const auto& p : rep.problems) {
            if (p.line > 0) std::cerr << "hitdna feedback: " << where << ":" << p.line << ": " << p.message << " (event skipped)\n";
            else std::cerr << "hitdna feedback: " << p.message << "\n";
        }
        char line[300];
        std::snprintf(line, sizeof line, "hitdna feedback: %lld events applied, %lld already applied (same id), %zu rejected; %zu tracks updated, %lld added; %.2f s",
                      (long long)r.applied, (long long)r.duplicates, rep.problems.size(), r.tracks.size(), (long long)r.tracks_added, r.seconds);
        std::cerr << line << "\n";
        if (st->format.resolve() == "json") {
            std::cout << learn::to_json(rep).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        } else if (r.tracks.size() <= 20) {
            for (const auto& te : rep.tracks)
                std::printf("track %lld: engagement %.3f (%lld plays, %lld events)%s\n", (long long)te.track_id, te.engagement.score, (long long)te.totals.plays,
                            (long long)te.totals.events, te.engagement.promoted ? ", promoted" : "");
        }
        return rep.problems.empty() ? 0 : 1;
    };
}

}  // namespace hitdna::cli
