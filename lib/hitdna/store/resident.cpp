#include "hitdna/store/resident.hpp"

#include <algorithm>
#include <numeric>

namespace hitdna::store {

using dna::Space;

namespace {

// What a row costs besides its floats: ids, the id maps, and in the sections space its
// SectionInfo.
size_t row_overhead(Space space) { return 2 * sizeof(int64_t) + 2 * sizeof(uint64_t) + (space == Space::sections ? sizeof(SectionInfo) : 0); }

struct Stopped {};

}  // namespace

void ResidentSpace::IdMap::build(const std::vector<int64_t>& ids) {
    if (ids.empty()) return;
    const auto [lo, hi] = std::minmax_element(ids.begin(), ids.end());
    const uint64_t span = uint64_t(*hi - *lo) + 1;
    // Dense while the table is at most four entries a row (AUTOINCREMENT keys with deletions).
    const bool is_dense = span <= 4 * uint64_t(ids.size());
    base = *lo;
    if (is_dense) dense.assign(size_t(span), Run{});
    for (size_t row = 0; row < ids.size(); ++row) {
        Run& run = is_dense ? dense[size_t(ids[row] - base)] : sparse[ids[row]];
        if (run.count == 0) run.first = uint32_t(row);
        ++run.count;
    }
}

ResidentSpace::IdMap::Run ResidentSpace::IdMap::find(int64_t id) const {
    if (!dense.empty()) return id < base || uint64_t(id - base) >= dense.size() ? Run{} : dense[size_t(id - base)];
    auto it = sparse.find(id);
    return it == sparse.end() ? Run{} : it->second;
}

void ResidentSpace::sort_rows(std::vector<int>& section_index) {
    const size_t n = m_ids.size();
    auto before = [&](size_t a, size_t b) { return m_tracks[a] != m_tracks[b] ? m_tracks[a] < m_tracks[b] : section_index[a] < section_index[b]; };
    bool sorted = true;
    for (size_t i = 1; i < n && sorted; ++i) sorted = !before(i, i - 1);
    if (sorted) return;
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), before);
    auto permute = [&](auto& v, size_t width) {
        std::remove_reference_t<decltype(v)> out;
        out.reserve(v.size());
        for (size_t i : order) out.insert(out.end(), std::make_move_iterator(v.begin() + long(i * width)), std::make_move_iterator(v.begin() + long((i + 1) * width)));
        v = std::move(out);
    };
    permute(m_ids, 1);
    permute(m_tracks, 1);
    permute(m_data, m_dim);
    if (!m_sections.empty()) permute(m_sections, 1);
}

std::shared_ptr<const ResidentSpace> ResidentSpace::load(Catalog& catalog, Space space, const std::vector<double>& mean,
                                                         const std::vector<double>& sd, size_t budget_bytes, const std::atomic<bool>* stop) {
    const size_t dim = dna::dimensions(space).size();
    const size_t per_row = dim * sizeof(float) + row_overhead(space);
    // The count first: a space that cannot fit is not read.
    if (size_t(std::max<int64_t>(0, catalog.count_vectors(space))) * per_row > budget_bytes) return nullptr;
    auto r = std::make_shared<ResidentSpace>();
    r->m_space = space;
    r->m_dim = dim;
    r->m_mean = mean;
    r->m_sd = sd;
    const SpaceStats stats{0, mean, sd};
    std::vector<int> section_index;
    try {
        r->m_generation = catalog.scan_vectors(space, [&](StoredVector&& v) {
            if (stop && stop->load(std::memory_order_relaxed)) throw Stopped{};
            if (v.data.size() != dim) return;
            r->m_ids.push_back(v.id);
            r->m_tracks.push_back(v.track_id);
            const auto z = stats.standardize(v.data);
            r->m_data.insert(r->m_data.end(), z.begin(), z.end());
            section_index.push_back(v.section.index);
            if (space == Space::sections) r->m_sections.push_back(std::move(v.section));
        });
    } catch (const Stopped&) {
        return nullptr;
    }
    if (r->rows() * per_row > budget_bytes) return nullptr;  // rows added since the count
    r->sort_rows(section_index);
    r->m_by_id.build(r->m_ids);
    r->m_by_track.build(r->m_tracks);
    return r;
}

size_t ResidentSpace::bytes() const { return m_data.size() * sizeof(float) + m_ids.size() * row_overhead(m_space); }

std::pair<size_t, size_t> ResidentSpace::rows_of_track(int64_t track_id) const {
    const IdMap::Run run = m_by_track.find(track_id);
    return {run.first, size_t(run.first) + run.count};
}

size_t ResidentSpace::row_of_vector(int64_t vector_id) const {
    const IdMap::Run run = m_by_id.find(vector_id);
    return run.count ? size_t(run.first) : npos;
}

const SectionInfo& ResidentSpace::section(size_t row) const {
    static const SectionInfo none;
    return row < m_sections.size() ? m_sections[row] : none;
}

ResidentVectors::ResidentVectors(std::string catalog_path, size_t budget_bytes, bool background)
    : m_path(std::move(catalog_path)), m_budget(budget_bytes), m_background(background) {}

ResidentVectors::~ResidentVectors() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

std::shared_ptr<const ResidentSpace> ResidentVectors::find_locked(const Request& r, size_t& used) {
    std::shared_ptr<const ResidentSpace> found;
    used = 0;
    for (auto it = m_spaces.begin(); it != m_spaces.end();) {
        const auto& s = *it;
        if (s->space() == r.space && s->generation() == r.generation && s->mean() == r.mean && s->sd() == r.sd) found = s;
        // Another generation of this space that no worker holds any more is let go.
        else if (s->space() == r.space && it->use_count() == 1) {
            it = m_spaces.erase(it);
            continue;
        }
        used += s->bytes();
        ++it;
    }
    return found;
}

std::shared_ptr<const ResidentSpace> ResidentVectors::get(Space space, int64_t generation, const std::vector<double>& mean, const std::vector<double>& sd) {
    Request r{space, generation, mean, sd};
    std::unique_lock<std::mutex> lock(m_mutex);
    size_t used = 0;
    if (auto s = find_locked(r, used)) return s;
    const std::pair<Space, int64_t> key{space, generation};
    if (std::find(m_asked.begin(), m_asked.end(), key) != m_asked.end() || used >= m_budget) return nullptr;
    m_asked.push_back(key);
    if (!m_background) {
        lock.unlock();
        load(r, m_budget - used);
        lock.lock();
        return find_locked(r, used);
    }
    m_queue.push_back(std::move(r));
    if (!m_thread.joinable()) m_thread = std::thread([this] { run(); });
    m_wake.notify_all();
    return nullptr;
}

size_t ResidentVectors::bytes() {
    std::lock_guard<std::mutex> lock(m_mutex);
    size_t n = 0;
    for (const auto& s : m_spaces) n += s->bytes();
    return n;
}

void ResidentVectors::load(const Request& r, size_t budget) {
    std::shared_ptr<const ResidentSpace> loaded;
    try {
        if (!m_catalog) m_catalog = std::make_unique<Catalog>(m_path, Catalog::Mode::read_only);
        loaded = ResidentSpace::load(*m_catalog, r.space, r.mean, r.sd, budget, &m_stop);
    } catch (const std::exception&) {
        // The queries go on reading the catalog; whatever failed here fails there with its message.
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    // A catalog that moved on while this was read is read again at the generation next asked.
    if (loaded && loaded->generation() == r.generation) m_spaces.push_back(std::move(loaded));
}

void ResidentVectors::run() {
    for (;;) {
        Request r;
        size_t used = 0;
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            m_wake.wait(lock, [&] { return m_stop || !m_queue.empty(); });
            if (m_stop) return;
            r = std::move(m_queue.front());
            m_queue.erase(m_queue.begin());
            for (const auto& s : m_spaces) used += s->bytes();
        }
        if (used < m_budget) load(r, m_budget - used);
    }
}

}  // namespace hitdna::store
