#pragma once
// Engagement: events (plays, completion, likes, shares, skips) appended to the catalog with
// their ids, so that replaying a file changes nothing; per-track totals; a smoothed engagement
// score; promotion of well-supported, well-liked tracks into the hits the system learns from.
#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hitdna/analysis/analyze.hpp"
#include "hitdna/store/catalog.hpp"
#include "hitdna/store/engagement.hpp"

namespace hitdna::learn {

// Per-track sums of the events (kept by the store).
using Totals = store::EngagementTotals;

struct Engagement {
    double score = 0;         // 0..1, see man/hitdna-feedback.1
    double completion = 0, like_rate = 0, share_rate = 0, skip_rate = 0;  // smoothed rates, 0..1
    bool promoted = false;
};

// Rates shrunk toward priors by 50 pseudo-plays (completion 0.5 over the plays that reported a
// completion, likes 0.05, shares 0.01, skips 0.25 per play), then score = 0.4 c + 0.25 min(1, l / 0.2) + 0.2 min(1, s / 0.05)
// + 0.15 (1 - min(1, k)). A track with no plays scores 0.415; 3 plays barely move it.
Engagement score(const Totals& t);
constexpr double k_promote_score = 0.6;  // promoted at this score ...
constexpr int64_t k_promote_plays = 100; // ... with at least this many plays

struct Event {
    int line = 0;                 // 1-based line in the events file (0: from flags)
    std::string id;               // unique event id
    std::string track;            // catalog id, generation id (gen-...) or audio path
    std::string at;               // ISO 8601 time; now when missing
    int64_t plays = 0, likes = 0, shares = 0, skips = 0;
    std::optional<double> completion;  // 0..1: share of each play that was heard
};

struct Problem {
    int line = 0;
    std::string message;
};

// JSON Lines, one event per line: {"id", "track", "plays", "completion", "likes", "shares",
// "skips", "at"}. Bad lines are listed by number and skipped.
std::vector<Event> parse_events(std::istream& in, std::vector<Problem>& problems);
// Range checks shared by the flags and the file: "" when valid.
std::string check_event(const Event& e);

struct ApplyResult {
    int64_t applied = 0, duplicates = 0, rejected = 0, tracks_added = 0;
    std::set<int64_t> tracks;     // tracks whose engagement changed
    std::vector<Problem> problems;
    double seconds = 0;
};

// Resolves every event's track (analyzing and adding unknown audio: a generation's output as
// source generated, another file as source user), then appends the events in transactions of
// up to 20 000, each with the per-track totals and scores it changes. Duplicate ids (already
// applied, or repeated) change nothing.
ApplyResult apply_events(store::Catalog& catalog, const std::vector<Event>& events, const analysis::AnalyzeOptions& analyze);

struct TrackEngagement {
    int64_t track_id = 0;
    Totals totals;
    Engagement engagement;
};
std::optional<TrackEngagement> engagement_of(store::Catalog& catalog, int64_t track_id);

struct FeedbackReport {
    ApplyResult result;
    std::vector<Problem> problems;        // parse problems and rejected events, by line
    std::vector<TrackEngagement> tracks;  // the changed tracks' engagement (the first 1000)
};

// `hitdna feedback`: applies events, brings the vector indexes up to date for tracks it added
// (warnings on `log`), and gathers every problem (with those of parsing) and the engagement of
// the tracks that changed. Throws Error(db).
FeedbackReport record_feedback(store::Catalog& catalog, const std::vector<Event>& events, std::vector<Problem> parse_problems,
                               const analysis::AnalyzeOptions& analyze, std::ostream& log);

// The report as `hitdna feedback --json` prints it (scores rounded to 0.001).
nlohmann::json to_json(const FeedbackReport& report);

}  // namespace hitdna::learn
