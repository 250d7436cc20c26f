#pragma once
// A catalog's vectors held in memory by a process that answers many queries (match --queries):
// one pass over the catalog's vectors instead of a read per candidate and per index hit. A
// space is standardized with the statistics of the index it is searched with, holds one
// catalog generation, and is shared read-only by a batch's workers.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hitdna/store/catalog.hpp"

namespace hitdna::store {

class ResidentSpace {
public:
    static constexpr size_t npos = size_t(-1);
    struct Spec {
        dna::Space space;
        std::vector<double> mean, sd;  // standardization (as SpaceSearcher::standardize)
    };
    // Every vector of each spec's space as the catalog holds it now (distinct spaces, one pass
    // over the catalog), standardized; a space is null when it would not fit in what the
    // ones before it left of budget_bytes. `stop`, when set during the read, abandons it (all
    // null).
    static std::vector<std::shared_ptr<const ResidentSpace>> load(Catalog& catalog, const std::vector<Spec>& specs, size_t budget_bytes,
                                                                  const std::atomic<bool>* stop = nullptr);

    dna::Space space() const { return m_space; }
    int64_t generation() const { return m_generation; }
    size_t dim() const { return m_dim; }
    size_t rows() const { return m_ids.size(); }
    // What the space takes in memory, bytes (about).
    size_t bytes() const;
    const std::vector<double>& mean() const { return m_mean; }
    const std::vector<double>& sd() const { return m_sd; }

    // A track's rows, [first, last) in section order (first == last: none).
    std::pair<size_t, size_t> rows_of_track(int64_t track_id) const;
    // The row of a vector id; npos when the catalog had none (deleted since an index was built).
    size_t row_of_vector(int64_t vector_id) const;
    int64_t vector_id(size_t row) const { return m_ids[row]; }
    int64_t track_id(size_t row) const { return m_tracks[row]; }
    const SectionInfo& section(size_t row) const;
    const float* data(size_t row) const { return m_data.data() + row * m_dim; }

private:
    // Ids map to rows through a table indexed from the smallest id while ids are dense (as
    // AUTOINCREMENT keys are), through a hash map otherwise.
    // (A track's rows are a run: the map gives its first row and how many.)
    struct IdMap {
        struct Run {
            uint32_t first = 0, count = 0;
        };
        int64_t base = 0;
        std::vector<Run> dense;  // id - base -> its run (count 0: none)
        std::unordered_map<int64_t, Run> sparse;
        void build(const std::vector<int64_t>& ids);  // ids sorted or unique
        Run find(int64_t id) const;
    };
    void append(const VectorRowView& v);
    // Puts the rows in track and section order (ingest writes them so; this makes it sure)
    // and builds the id maps.
    void finish();
    dna::Space m_space = dna::Space::audio;
    int64_t m_generation = 0;
    size_t m_dim = 0;
    std::vector<double> m_mean, m_sd;
    std::vector<int64_t> m_ids, m_tracks;  // per row, rows ordered by track then section
    std::vector<float> m_data;             // rows x dim
    std::vector<SectionInfo> m_sections;   // per row (the sections space only)
    std::vector<int> m_section_index;      // per row while loading
    IdMap m_by_id, m_by_track;             // by_track: a track's run of rows
};

// The resident spaces of one catalog, shared by a batch's workers. A space asked for is loaded
// on a thread of its own, with its own connection, while the queries go on reading the
// catalog (a short batch is not held up by a load it would never repay); once loaded it is
// answered from memory. Each space is loaded once per generation and statistics, and all stay
// within a budget.
class ResidentVectors {
public:
    static constexpr size_t k_default_budget = size_t(1) << 30;  // 1 GiB
    // `catalog_path`: the catalog the batch reads. background = false loads in get() itself.
    explicit ResidentVectors(std::string catalog_path, size_t budget_bytes = k_default_budget, bool background = true);
    ~ResidentVectors();  // stops a load in progress
    ResidentVectors(const ResidentVectors&) = delete;
    ResidentVectors& operator=(const ResidentVectors&) = delete;
    // The space at `generation` standardized with mean and sd; null while it is being loaded,
    // when the catalog has moved past `generation`, or when it does not fit in what is left of
    // the budget (the caller reads the catalog instead).
    std::shared_ptr<const ResidentSpace> get(dna::Space space, int64_t generation, const std::vector<double>& mean, const std::vector<double>& sd);
    // What the loaded spaces take, bytes.
    size_t bytes();

private:
    struct Request {
        ResidentSpace::Spec spec;
        int64_t generation;
    };
    // The loaded space matching `r`, dropping what no worker needs any more; the bytes the
    // others take go to `used`. Called with m_mutex held.
    std::shared_ptr<const ResidentSpace> find_locked(const Request& r, size_t& used);
    // Loads requests of one generation (distinct spaces) in one pass.
    void load(const std::vector<Request>& rs, size_t budget);
    void run();  // the loader thread: requests in order
    std::string m_path;
    size_t m_budget;
    bool m_background;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::vector<std::shared_ptr<const ResidentSpace>> m_spaces;
    std::vector<Request> m_queue;
    std::vector<std::pair<dna::Space, int64_t>> m_asked;  // queued, loading, refused or loaded
    std::mutex m_load_mutex;                              // one load at a time (background = false: callers' threads)
    std::unique_ptr<Catalog> m_catalog;                   // the loader's connection
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

}  // namespace hitdna::store
