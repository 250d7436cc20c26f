#pragma once
// HNSW indexes (hnswlib), one per vector space, derived from the catalog.
//
// Files live next to the database in DB.hnsw/: SPACE.gGEN.hnsw holds the graph over the
// standardized vectors of catalog generation GEN, and SPACE.json (the manifest) names that
// file with its size, XXH3 hash, the statistics used to standardize, and the tuned search
// breadth. Both are written to a temporary name, synced and renamed; the manifest rename is the
// commit point, so a reader sees the old index or the new one, never half of one. An index
// that is missing, fails its hash, belongs to another catalog (each catalog has a random id)
// or claims a generation the catalog has not reached (a restored backup) is bypassed with a warning
// (exact search over the catalog), and an index older than the catalog is completed by an
// exact scan of the newer rows. Losing every index file loses no data.
#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "hitdna/store/catalog.hpp"
#include "hitdna/store/resident.hpp"

namespace hitdna::store {

struct IndexManifest {
    dna::Space space = dna::Space::audio;
    int64_t generation = 0;     // catalog generation the index covers
    int64_t count = 0;          // vectors in the index
    size_t dim = 0;
    std::string file;           // name inside the index directory
    int64_t bytes = 0;
    std::string hash;           // XXH3-128 of the file (checked by verify and before an update)
    std::string stamp;          // stamp_file (checked on every open; "" in manifests before it)
    std::string catalog_id;     // the catalog's random id (meta.catalog_id)
    int m = 32, ef_construction = 200, ef_search = 64;
    double tuned_recall = 0;    // recall@10 measured at ef_search when the index was built
    std::vector<double> mean, sd;
    double build_s = 0;
};

// How a search reaches an index file (see detail/mapped_hnsw.hpp): `read` reads the records a
// search visits into the process (a system call per node's neighbours; resident size is what
// it read: a few queries per process), `map` maps the file (no system call, but the kernel
// maps whole page-cache folios around each record, so resident size grows toward the file's
// size: a process that answers many queries).
enum class IndexAccess { read, map };

struct VectorHit {
    int64_t vector_id = 0, track_id = 0;
    float dist2 = 0;            // squared Euclidean distance of standardized vectors
    SectionInfo section;
};

struct IndexStatus {
    dna::Space space = dna::Space::audio;
    bool present = false, valid = false;
    std::string problem;        // why it is not valid
    IndexManifest manifest;
    int64_t catalog_vectors = 0, newer_vectors = 0;  // newer = not covered (stale part)
};

class VectorIndexes {
public:
    // The directory is DB.hnsw next to the catalog.
    explicit VectorIndexes(Catalog& catalog);
    const std::string& dir() const { return m_dir; }

    // Builds a fresh index of one space from the catalog; threads 0 = all cores.
    IndexManifest rebuild(dna::Space space, int threads = 0);
    // Adds rows newer than the current index to a copy of it (or rebuilds when there is no
    // valid index, or when the catalog has more than doubled since the statistics were taken).
    IndexManifest update(dna::Space space, int threads = 0);
    IndexStatus status(dna::Space space, bool check_hash = true);
    // update() of every space; a space that cannot be updated is reported on `warn` after
    // `who` ("hitdna ingest") and left to exact search until a rebuild.
    void update_all(std::ostream& warn, const std::string& who, int threads = 0);
    // Whether some space with vectors has no usable index (missing, failing the open-time
    // check) or one behind the catalog's rows: what an ingest killed between committing its
    // tracks and updating the indexes leaves, for the next ingest to finish.
    bool behind();
    // Indexes smaller than this are rebuilt rather than extended by update() (tests lower it).
    void set_incremental_minimum(int64_t vectors) { m_incremental_min = vectors; }
    // How SpaceSearchers made from this reach the files (default: read).
    void set_access(IndexAccess access) { m_access = access; }

private:
    IndexManifest rebuild_locked(dna::Space space, int threads);
    // Rows of `space` written after catalog generation `generation`.
    int64_t newer_vectors(dna::Space space, int64_t generation);
    Catalog& m_catalog;
    std::string m_dir;
    int64_t m_incremental_min = 20000;
    IndexAccess m_access = IndexAccess::read;
    friend class SpaceSearcher;
};

// Nearest neighbours in one space, for one query run. Uses the index when valid, with exact
// search of the rows the index does not cover; exact search alone otherwise.
class SpaceSearcher {
public:
    SpaceSearcher(VectorIndexes& indexes, dna::Space space, std::ostream* warnings);
    ~SpaceSearcher();
    // Searchers for several spaces, their index files opened at once (one thread each; the
    // catalog is read on this one): on a cold page cache each open waits on its reads.
    static std::map<dna::Space, std::unique_ptr<SpaceSearcher>> open(VectorIndexes& indexes, const std::vector<dna::Space>& spaces,
                                                                     std::ostream* warnings);
    dna::Space space() const { return m_space; }
    bool using_index() const;
    // Standardization used for this search (the index's statistics, or the catalog's).
    const std::vector<double>& mean() const { return m_mean; }
    const std::vector<double>& sd() const { return m_sd; }
    std::vector<float> standardize(const std::vector<float>& raw) const;
    float distance2(const std::vector<float>& raw_a, const std::vector<float>& raw_b) const;

    // k nearest stored vectors to a raw (unstandardized) query among tracks passing the filter.
    // With a filter, a planner picks exact search over the allowed rows when they are few, or
    // an index search widened until k allowed rows are found.
    std::vector<VectorHit> search(const std::vector<float>& raw_query, size_t k, const Filter& filter = {});
    // The same for several raw queries at once: the k stored vectors nearest to any of them,
    // each at its distance to the nearest query (dist2). The index answers with one search
    // (MappedHnsw's, from every query's starting point) instead of one per query.
    std::vector<VectorHit> search(const std::vector<std::vector<float>>& raw_queries, size_t k, const Filter& filter = {});
    // The index's hits are looked up in `vectors` (this space, standardized as here) instead
    // of the catalog, with the index's own distances; null goes back to the catalog.
    void use_resident(std::shared_ptr<const ResidentSpace> vectors);
    // Reads ahead for search(raw_query, k) without a filter: runs its index search now, so
    // that the search itself is answered from the index's recent lists. Touches only the index
    // file, never the catalog, so it may run on several threads at once, for one searcher or
    // several (not while search() runs). A failure is left for search() to meet and report.
    void warm(const std::vector<float>& raw_query, size_t k) const;

private:
    // No index yet: the public constructor and open() load it, then finish().
    SpaceSearcher(Catalog& catalog, dna::Space space, std::ostream* warnings);
    // After the index was loaded (or not, with why): the warning, and the statistics used.
    void finish(Catalog& catalog, bool has_rows, const std::string& why);
    // A stored vector as a hit at its distance from the nearest query.
    VectorHit hit_of(StoredVector&& v, const std::vector<std::vector<float>>& raw_queries) const;
    // The index's nearest rows to `z` (the standardized queries, one after another) passing
    // the filter (`allowed` tracks of `n_allowed` vectors), widened until k pass, into `hits`.
    // False when the index file failed under the search (changed or unreadable since it was
    // opened), with why.
    bool index_hits(const std::vector<float>& z, const std::vector<std::vector<float>>& raw_queries, size_t k, const Filter& filter,
                    const std::unordered_set<int64_t>& allowed, int64_t n_allowed, std::vector<VectorHit>& hits, std::string& failure);
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    dna::Space m_space;
    std::vector<double> m_mean, m_sd;
};

}  // namespace hitdna::store
