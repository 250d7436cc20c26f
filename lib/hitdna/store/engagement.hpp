#pragma once
// Engagement in the catalog: events appended by id (an id already stored changes nothing) and
// per-track totals kept equal to the sums of their events, each with the score and promotion
// that learn/ computes from them, all updated in one transaction.
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hitdna/store/catalog.hpp"

namespace hitdna::store {

struct EngagementTotals {
    int64_t events = 0, plays = 0, likes = 0, shares = 0, skips = 0;
    double completed = 0;          // sum of plays x completion
    int64_t completion_plays = 0;  // plays of events that reported a completion
};

struct EngagementEvent {
    std::string id;                // unique event id
    int64_t track_id = 0;
    std::string generation_id;     // "" when the event is not about a generation
    std::string at;                // ISO 8601
    int64_t plays = 0, likes = 0, shares = 0, skips = 0;
    std::optional<double> completion;  // 0..1
};

struct EngagementScore {
    double score = 0;              // 0..1
    bool promoted = false;
};
using EngagementScorer = std::function<EngagementScore(const EngagementTotals&)>;

struct AppendedEvents {
    int64_t applied = 0, duplicates = 0;
    std::set<int64_t> tracks;      // tracks whose totals changed
};

// Appends events in one transaction with the totals they change, each track's new totals
// scored by `scorer` and stamped `updated_at` (ISO 8601). Events whose id is stored already are
// counted as duplicates. Throws Error(db); nothing is kept then.
AppendedEvents append_engagement(Catalog& catalog, const std::vector<EngagementEvent>& events, const std::string& updated_at,
                                 const EngagementScorer& scorer);

// A track's totals, or nullopt when it has no events.
std::optional<EngagementTotals> engagement_totals(Catalog& catalog, int64_t track_id);

// An event by id, or nullopt.
std::optional<EngagementEvent> engagement_event(Catalog& catalog, const std::string& event_id);

struct EngagedTrack {
    int64_t track_id = 0, plays = 0;
    double score = 0;
    bool promoted = false;
};
// Every track with plays, by id, with its stored score.
std::vector<EngagedTrack> engaged_tracks(Catalog& catalog);

// Tracks with plays.
int64_t engaged_track_count(Catalog& catalog);

// Events stored.
int64_t engagement_event_count(Catalog& catalog);

}  // namespace hitdna::store
