#include "hitdna/store/resident.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
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

void ResidentSpace::append(const VectorRowView& v) {
    if (v.data_bytes != m_dim * sizeof(float)) return;
    m_ids.push_back(v.id);
    m_tracks.push_back(v.track_id);
    const size_t at = m_data.size();
    m_data.resize(at + m_dim);
    std::memcpy(m_data.data() + at, v.data, v.data_bytes);
    // Standardized as SpaceStats::standardize (and SpaceSearcher::standardize) does it.
    for (size_t i = 0; i < m_dim; ++i) {
        const double m = i < m_mean.size() ? m_mean[i] : 0, s = i < m_sd.size() ? m_sd[i] : 1;
        m_data[at + i] = float((m_data[at + i] - m) / s);
    }
    m_section_index.push_back(v.section);
    if (m_space == Space::sections) m_sections.push_back({v.section, v.start_s, v.end_s, std::string(v.label), std::string(v.role)});
}

void ResidentSpace::finish() {
    const size_t n = m_ids.size();
    auto before = [&](size_t a, size_t b) { return m_tracks[a] != m_tracks[b] ? m_tracks[a] < m_tracks[b] : m_section_index[a] < m_section_index[b]; };
    bool sorted = true;
    for (size_t i = 1; i < n && sorted; ++i) sorted = !before(i, i - 1);
    if (!sorted) {
        std::vector<size_t> order(n);
        std::iota(order.begin(), order.end(), size_t(0));
        std::stable_sort(order.begin(), order.end(), before);
        auto permute = [&](auto& v, size_t width) {
            std::remove_reference_t<decltype(v)> out;
            out.reserve(v.size());
            for (size_t i : order)
                out.insert(out.end(), std::make_move_iterator(v.begin() + long(i * width)), std::make_move_iterator(v.begin() + long((i + 1) * width)));
            v = std::move(out);
        };
        permute(m_ids, 1);
        permute(m_tracks, 1);
        permute(m_data, m_dim);
        if (!m_sections.empty()) permute(m_sections, 1);
    }
    m_section_index = {};
    m_by_id.build(m_ids);
    m_by_track.build(m_tracks);
}

std::vector<std::shared_ptr<const ResidentSpace>> ResidentSpace::load(Catalog& catalog, const std::vector<Spec>& specs, size_t budget_bytes,
                                                                      const std::atomic<bool>* stop) {
    std::vector<std::shared_ptr<const ResidentSpace>> out(specs.size());
    std::array<std::shared_ptr<ResidentSpace>, dna::k_spaces.size()> building;
    std::vector<Space> spaces;
    size_t planned = 0;
    for (const auto& spec : specs) {
        const size_t dim = dna::dimensions(spec.space).size();
        // The counts first: a space that cannot fit is not read.
        const size_t rows = size_t(std::max<int64_t>(0, catalog.count_vectors(spec.space))), need = rows * (dim * sizeof(float) + row_overhead(spec.space));
        if (planned + need > budget_bytes) continue;
        planned += need;
        auto r = std::make_shared<ResidentSpace>();
        r->m_ids.reserve(rows);
        r->m_tracks.reserve(rows);
        r->m_data.reserve(rows * dim);
        r->m_section_index.reserve(rows);
        if (spec.space == Space::sections) r->m_sections.reserve(rows);
        r->m_space = spec.space;
        r->m_dim = dim;
        r->m_mean = spec.mean;
        r->m_sd = spec.sd;
        building[size_t(spec.space)] = r;
        spaces.push_back(spec.space);
    }
    if (spaces.empty()) return out;
    int64_t gen = 0;
    try {
        gen = catalog.scan_vectors(spaces, [&](Space space, const VectorRowView& v) {
            if (stop && stop->load(std::memory_order_relaxed)) throw Stopped{};
            building[size_t(space)]->append(v);
        });
    } catch (const Stopped&) {
        return out;
    }
    size_t used = 0;
    for (size_t i = 0; i < specs.size(); ++i) {
        auto& r = building[size_t(specs[i].space)];
        if (!r || (used += r->bytes()) > budget_bytes) continue;  // rows added since the count
        r->m_generation = gen;
        r->finish();
        out[i] = r;
    }
    return out;
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
        if (s->space() == r.spec.space && s->generation() == r.generation && s->mean() == r.spec.mean && s->sd() == r.spec.sd) found = s;
        // Another generation of this space that no worker holds any more is let go.
        else if (s->space() == r.spec.space && it->use_count() == 1) {
            it = m_spaces.erase(it);
            continue;
        }
        used += s->bytes();
        ++it;
    }
    return found;
}

std::shared_ptr<const ResidentSpace> ResidentVectors::get(Space space, int64_t generation, const std::vector<double>& mean, const std::vector<double>& sd) {
    Request r{{space, mean, sd}, generation};
    std::unique_lock<std::mutex> lock(m_mutex);
    size_t used = 0;
    if (auto s = find_locked(r, used)) return s;
    const std::pair<Space, int64_t> key{space, generation};
    if (std::find(m_asked.begin(), m_asked.end(), key) != m_asked.end() || used >= m_budget) return nullptr;
    m_asked.push_back(key);
    if (!m_background) {
        lock.unlock();
        load({r}, m_budget - used);
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

void ResidentVectors::load(const std::vector<Request>& rs, size_t budget) {
    std::vector<std::shared_ptr<const ResidentSpace>> loaded;
    try {
        std::lock_guard<std::mutex> one(m_load_mutex);
        if (!m_catalog) m_catalog = std::make_unique<Catalog>(m_path, Catalog::Mode::read_only);
        std::vector<ResidentSpace::Spec> specs;
        for (const auto& r : rs) specs.push_back(r.spec);
        loaded = ResidentSpace::load(*m_catalog, specs, budget, &m_stop);
    } catch (const std::exception&) {
        // The queries go on reading the catalog; whatever failed here fails there with its message.
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    // A catalog that moved on while this was read is read again at the generation next asked.
    for (size_t i = 0; i < loaded.size(); ++i)
        if (loaded[i] && loaded[i]->generation() == rs[i].generation) m_spaces.push_back(std::move(loaded[i]));
}

void ResidentVectors::run() {
    for (;;) {
        std::vector<Request> batch;
        size_t used = 0;
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            m_wake.wait(lock, [&] { return m_stop || !m_queue.empty(); });
            // A query asks for its spaces one after another as it opens them: wait until none
            // came for 20 ms, so that one pass reads them all.
            for (size_t n = 0; n != m_queue.size() && !m_stop;) {
                n = m_queue.size();
                m_wake.wait_for(lock, std::chrono::milliseconds(20));
            }
            if (m_stop) return;
            // Every queued space of the first request's generation, in one pass.
            const int64_t gen = m_queue.front().generation;
            for (auto it = m_queue.begin(); it != m_queue.end();) {
                const bool again = std::any_of(batch.begin(), batch.end(), [&](const Request& b) { return b.spec.space == it->spec.space; });
                if (it->generation != gen || again) {
                    ++it;
                    continue;
                }
                batch.push_back(std::move(*it));
                it = m_queue.erase(it);
            }
            for (const auto& s : m_spaces) used += s->bytes();
        }
        if (used < m_budget) load(batch, m_budget - used);
    }
}

}  // namespace hitdna::store
