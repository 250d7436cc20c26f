#include "hitdna/analysis/structure.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

namespace hitdna::analysis {
namespace {

// A boundary this strong (relative to the song's strongest) separates even two sections with
// one label. Chosen on the "tune" split of data/eval/forms.
constexpr double k_real_novelty = 0.5;
constexpr double k_min_intro_s = 4.0;  // the shortest intro split off the first section

double dot(const float* a, const float* b, int d) {
    double s = 0;
    for (int i = 0; i < d; ++i) s += double(a[i]) * b[i];
    return s;
}

void normalize(std::vector<double>& v) {
    double n = 0;
    for (double x : v) n += x * x;
    n = std::sqrt(n);
    if (n > 0)
        for (double& x : v) x /= n;
}

double mean_range(const std::vector<float>& v, double t0, double t1, double hop) {
    long i0 = std::max(0L, long(std::floor(t0 / hop))), i1 = std::min(long(v.size()), long(std::ceil(t1 / hop)));
    if (i1 <= i0) return v.empty() ? 0 : v[size_t(std::clamp(i0, 0L, long(v.size()) - 1))];
    double s = 0;
    for (long i = i0; i < i1; ++i) s += v[size_t(i)];
    return s / double(i1 - i0);
}

constexpr int k_embed = 4;  // units per embedded row: a bar of beats

// Time-delay embedding of the unit features over k_embed units: n rows of dim * k_embed
// values, each row normalized.
std::vector<float> embed_units(const StructureInput& in, int n) {
    const int d = in.dim;
    const int de = d * k_embed;
    std::vector<float> emb(size_t(n) * size_t(de), 0.0f);
    for (int u = 0; u < n; ++u) {
        float* row = emb.data() + size_t(u) * size_t(de);
        for (int e = 0; e < k_embed; ++e) {
            int src = std::min(n - 1, u + e);
            std::copy_n(in.unit_features.data() + size_t(src) * size_t(d), d, row + e * d);
        }
        double nn = std::sqrt(dot(row, row, de));
        if (nn > 0)
            for (int i = 0; i < de; ++i) row[i] = float(row[i] / nn);
    }
    return emb;
}

// Self-similarity (dot products) of n embedded rows, kept only where a checkerboard kernel of
// half-width K reaches: |i - j| < 2K.
class BandedSimilarity {
public:
    BandedSimilarity(const std::vector<float>& emb, int n, int row_len, int K) : m_n(n), m_width(2 * K) {
        m_band.assign(size_t(n) * size_t(m_width), 0.0f);
        for (int i = 0; i < n; ++i)
            for (int j = i; j < std::min(n, i + m_width); ++j)
                m_band[size_t(i) * size_t(m_width) + size_t(j - i)] = float(dot(emb.data() + size_t(i) * size_t(row_len), emb.data() + size_t(j) * size_t(row_len), row_len));
    }
    // Similarity of units i and j, 0 outside the band.
    double at(int i, int j) const {
        if (i > j) std::swap(i, j);
        if (i < 0 || j >= m_n || j - i >= m_width) return 0;
        return m_band[size_t(i) * size_t(m_width) + size_t(j - i)];
    }

private:
    int m_n, m_width;
    std::vector<float> m_band;
};

// Foote checkerboard novelty (Gaussian-tapered kernel of half-width K) per unit, >= 0.
std::vector<double> checkerboard_novelty(const BandedSimilarity& sim, int n, int K) {
    std::vector<double> nov(size_t(n), 0.0);
    const double sigma = 0.5 * K;
    for (int u = 0; u < n; ++u) {
        double acc = 0;
        for (int a = -K; a < K; ++a)
            for (int b = -K; b < K; ++b) {
                int i = u + a, j = u + b;
                if (i < 0 || j < 0 || i >= n || j >= n) continue;
                double g = std::exp(-((a + 0.5) * (a + 0.5) + (b + 0.5) * (b + 0.5)) / (2 * sigma * sigma));
                double sign = ((a < 0) == (b < 0)) ? 1.0 : -1.0;
                acc += sign * g * sim.at(i, j);
            }
        nov[size_t(u)] = std::max(0.0, acc);
    }
    return nov;
}

// Novelty per unit boundary, 0..1: 3/4 the checkerboard novelty on the embedded features
// (relative to its maximum), 1/4 the loudness change.
std::vector<double> unit_novelty(const StructureInput& in, int n, int K) {
    const std::vector<float> emb = embed_units(in, n);
    const BandedSimilarity sim(emb, n, in.dim * k_embed, K);
    std::vector<double> nov = checkerboard_novelty(sim, n, K);
    // Loudness change across the unit boundary (4 s either side), in LU / 6, capped at 1.
    std::vector<double> lnov(size_t(n), 0.0);
    for (int u = 0; u < n; ++u) {
        double t = in.unit_times[size_t(u)];
        double before = mean_range(in.loudness_lufs, t - 4, t, in.hop_s), after = mean_range(in.loudness_lufs, t, t + 4, in.hop_s);
        lnov[size_t(u)] = std::min(1.0, std::abs(after - before) / 6.0);
    }
    double mx = *std::max_element(nov.begin(), nov.end());
    for (int u = 0; u < n; ++u) nov[size_t(u)] = (mx > 0 ? nov[size_t(u)] / mx : 0) * 0.75 + 0.25 * lnov[size_t(u)];
    return nov;
}

// Peak picking: highest first, keeping a minimum gap (units), up to max_sections - 1
// boundaries; returns them in time order.
std::vector<int> pick_novelty_peaks(const std::vector<double>& nov, int gap, int max_sections) {
    const int n = int(nov.size());
    std::vector<int> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return nov[size_t(a)] > nov[size_t(b)]; });
    double nmean = std::accumulate(nov.begin(), nov.end(), 0.0) / n, nsd = 0;
    for (double v : nov) nsd += (v - nmean) * (v - nmean);
    nsd = std::sqrt(nsd / n);
    const double thresh = std::max(0.2, nmean + 0.5 * nsd);
    std::vector<int> picked;
    for (int u : order) {
        if (nov[size_t(u)] < thresh || int(picked.size()) + 1 >= max_sections) break;
        if (u < gap || n - u < gap) continue;
        // Must be a local maximum within +-gap/2.
        bool local = true;
        for (int k = std::max(0, u - gap / 2); k <= std::min(n - 1, u + gap / 2) && local; ++k)
            if (nov[size_t(k)] > nov[size_t(u)]) local = false;
        if (!local) continue;
        bool far = std::all_of(picked.begin(), picked.end(), [&](int q) { return std::abs(q - u) >= gap; });
        if (far) picked.push_back(u);
    }
    std::sort(picked.begin(), picked.end());
    return picked;
}

// Homogeneous passages (one texture for minutes) have weak novelty everywhere: splits any
// section longer than max_len units at its strongest local novelty peak (at least `gap` units
// from its ends), until none is; `picked` stays in time order.
void split_long_sections(std::vector<int>& picked, const std::vector<double>& nov, int gap, int max_len) {
    const int n = int(nov.size());
    for (bool changed = true; changed;) {
        changed = false;
        std::vector<int> b = {0};
        b.insert(b.end(), picked.begin(), picked.end());
        b.push_back(n);
        for (size_t k = 0; k + 1 < b.size(); ++k) {
            if (b[k + 1] - b[k] <= max_len) continue;
            int best = -1;
            for (int u = b[k] + gap; u <= b[k + 1] - gap; ++u) {
                const bool local = nov[size_t(u)] >= nov[size_t(u - 1)] && (u + 1 >= n || nov[size_t(u)] >= nov[size_t(u + 1)]);
                if (local && (best < 0 || nov[size_t(u)] > nov[size_t(best)])) best = u;
            }
            if (best < 0) best = (b[k] + b[k + 1]) / 2;
            picked.push_back(best);
            changed = true;
        }
        std::sort(picked.begin(), picked.end());
    }
}

// An intro may be shorter than the minimum section (songs open with 2-4 bars before the
// chorus): the strongest novelty peak between k_min_intro_s and k_min_intro_s before the first
// boundary becomes one when it has real novelty, in a song that has other boundaries.
void split_short_intro(std::vector<int>& picked, const std::vector<double>& nov, double mean_unit_s) {
    const int n = int(nov.size());
    if (picked.empty()) return;
    const int first = picked.front();
    const int min_units = int(std::ceil(k_min_intro_s / std::max(mean_unit_s, 1e-3)));
    int best = -1;
    for (int u = min_units; u <= first - min_units && u + 1 < n; ++u)
        if (nov[size_t(u)] >= nov[size_t(u - 1)] && nov[size_t(u)] >= nov[size_t(u + 1)] && (best < 0 || nov[size_t(u)] > nov[size_t(best)]))
            best = u;
    if (best > 0 && nov[size_t(best)] >= k_real_novelty) picked.insert(picked.begin(), best);
}

// Section boundaries in units, from 0 to n = nov.size().
std::vector<int> section_bounds(const std::vector<double>& nov, double duration_s, double mean_unit_s, const StructureParams& p) {
    const int n = int(nov.size());
    const int gap = int(std::clamp(std::round(p.min_section_s / std::max(mean_unit_s, 1e-3)), 1.0, 1e6));
    const int max_sections = std::max(1, int(duration_s / p.mean_section_s));
    std::vector<int> picked = pick_novelty_peaks(nov, gap, max_sections);
    const int max_len = std::max(2 * gap + 1, int(std::clamp(std::round(p.max_section_s / std::max(mean_unit_s, 1e-3)), 1.0, 1e6)));
    split_long_sections(picked, nov, gap, max_len);
    split_short_intro(picked, nov, mean_unit_s);
    std::vector<int> bounds = {0};
    bounds.insert(bounds.end(), picked.begin(), picked.end());
    bounds.push_back(n);
    return bounds;
}

// Appends one section per pair of bounds to out.sections, with the normalized mean of its
// (non-embedded) unit features, for labels, to out.section_means (and the mean itself to
// out.section_zmeans).
void make_sections(const StructureInput& in, const std::vector<double>& nov, const std::vector<int>& bounds, Segmentation& out) {
    const int d = in.dim;
    for (size_t s = 0; s + 1 < bounds.size(); ++s) {
        dna::Section sec;
        sec.start_s = in.unit_times[size_t(bounds[s])];
        sec.end_s = s + 2 == bounds.size() ? in.duration_s : in.unit_times[size_t(bounds[s + 1])];
        if (s == 0) sec.start_s = 0;
        sec.novelty = s == 0 ? 1.0 : nov[size_t(bounds[s])];
        sec.length_ratio = (sec.end_s - sec.start_s) / in.duration_s;
        sec.energy_lufs = mean_range(in.loudness_lufs, sec.start_s, sec.end_s, in.hop_s);
        std::vector<double> mean(size_t(d), 0.0);
        for (int u = bounds[s]; u < bounds[s + 1]; ++u)
            for (int k = 0; k < d; ++k) mean[size_t(k)] += in.unit_features[size_t(u) * size_t(d) + size_t(k)];
        for (auto& v : mean) v /= std::max(1, bounds[s + 1] - bounds[s]);
        out.section_zmeans.push_back(mean);
        normalize(mean);
        out.section_means.push_back(mean);
        out.sections.push_back(sec);
    }
}

// The similarity above which sections share a label. It adapts to the song: in a homogeneous
// song (every section alike) only the closest quarter of section pairs may share a label.
double label_threshold(const std::vector<std::vector<double>>& section_means, int d, double label_similarity) {
    double threshold = label_similarity;
    std::vector<double> sims;
    for (size_t i = 0; i < section_means.size(); ++i)
        for (size_t j = i + 1; j < section_means.size(); ++j) {
            double c = 0;
            for (int k = 0; k < d; ++k) c += section_means[i][size_t(k)] * section_means[j][size_t(k)];
            sims.push_back(c);
        }
    if (sims.size() >= 6) {
        std::sort(sims.begin(), sims.end());
        threshold = std::max(threshold, sims[sims.size() * 3 / 4]);
    }
    return threshold;
}

// The name of label number `index`: A..Z, then AA, AB, ...
std::string label_name(int index) {
    std::string label;
    for (int b = index;; b = b / 26 - 1) {
        label.insert(label.begin(), char('A' + b % 26));
        if (b < 26) break;
    }
    return label;
}

// A section's mean (z-scored, not normalized) as it would read with its pitch classes moved
// up by `shift` semitones: back to raw chroma (the z-scoring's mean and spread per dimension),
// rotated, z-scored again; unit norm.
std::vector<double> transposed(const std::vector<double>& zmean, const StructureInput& in, int shift) {
    std::vector<double> y = zmean;
    if (shift != 0 && in.chroma_dims == 12 && in.feature_mean.size() >= 12 && in.feature_sd.size() >= 12)
        for (int k = 0; k < 12; ++k) {
            const size_t from = size_t((k - shift + 12) % 12);
            const double raw = zmean[from] * in.feature_sd[from] + in.feature_mean[from];
            y[size_t(k)] = (raw - in.feature_mean[size_t(k)]) / in.feature_sd[size_t(k)];
        }
    normalize(y);
    return y;
}

// Labels: each section joins the most similar earlier label above `threshold` (whose mean
// it then joins too), or starts a new one. With pitch-class dimensions (in.chroma_dims), a
// section is also compared a half and a whole step down and up, so that a part repeated in
// another key (a last chorus lifted a step) keeps its label; the key change is reported by
// the section keys.
void label_sections(Segmentation& out, const StructureInput& in, double threshold) {
    const int d = in.dim;
    std::vector<std::vector<double>> label_means;
    std::vector<int> label_count;
    const std::vector<int> shifts = in.chroma_dims == 12 ? std::vector<int>{0, -1, 1, -2, 2} : std::vector<int>{0};
    for (size_t s = 0; s < out.sections.size(); ++s) {
        int best = -1;
        double best_sim = threshold;
        std::vector<double> best_mean;
        for (int shift : shifts) {
            const std::vector<double> x = shift == 0 ? out.section_means[s] : transposed(out.section_zmeans[s], in, shift);
            for (size_t l = 0; l < label_means.size(); ++l) {
                double c = 0;
                for (int k = 0; k < d; ++k) c += label_means[l][size_t(k)] * x[size_t(k)];
                if (c > best_sim) {
                    best_sim = c;
                    best = int(l);
                    best_mean = x;
                }
            }
        }
        if (best < 0) {
            best = int(label_means.size());
            label_means.push_back(out.section_means[s]);
            label_count.push_back(1);
        } else {
            auto& m = label_means[size_t(best)];
            for (int k = 0; k < d; ++k) m[size_t(k)] = m[size_t(k)] * label_count[size_t(best)] + best_mean[size_t(k)];
            normalize(m);
            ++label_count[size_t(best)];
        }
        out.sections[s].label = label_name(best);
    }
}

// Adjacent sections that got the same label are one section when together they are no longer
// than max_section_s, or when the boundary between them has no real novelty (below
// k_real_novelty of the song's strongest boundary); a long repeat after a new texture, a key
// change or a stop stays a repeated part (A A).
void merge_repeated_neighbours(Segmentation& out, const StructureInput& in, double max_section_s) {
    const int d = in.dim;
    for (size_t s = 1; s < out.sections.size();) {
        const bool short_enough = out.sections[s].end_s - out.sections[s - 1].start_s <= max_section_s;
        if (out.sections[s].label != out.sections[s - 1].label || (!short_enough && out.sections[s].novelty >= k_real_novelty)) {
            ++s;
            continue;
        }
        auto& prev = out.sections[s - 1];
        const auto& cur = out.sections[s];
        const double lp = prev.end_s - prev.start_s, lc = cur.end_s - cur.start_s;
        prev.energy_lufs = (prev.energy_lufs * lp + cur.energy_lufs * lc) / std::max(lp + lc, 1e-9);
        prev.end_s = cur.end_s;
        prev.length_ratio = (prev.end_s - prev.start_s) / in.duration_s;
        auto& pm = out.section_means[s - 1];
        for (int k = 0; k < d; ++k) pm[size_t(k)] = pm[size_t(k)] * lp + out.section_means[s][size_t(k)] * lc;
        normalize(pm);
        auto& pz = out.section_zmeans[s - 1];
        for (int k = 0; k < d; ++k) pz[size_t(k)] = (pz[size_t(k)] * lp + out.section_zmeans[s][size_t(k)] * lc) / std::max(lp + lc, 1e-9);
        out.sections.erase(out.sections.begin() + long(s));
        out.section_means.erase(out.section_means.begin() + long(s));
        out.section_zmeans.erase(out.section_zmeans.begin() + long(s));
    }
}

}  // namespace

Segmentation segment(const StructureInput& in, const StructureParams& p) {
    Segmentation out;
    const int n = int(in.unit_times.size()) - 1;
    if (n <= 0) return out;
    const double mean_unit = in.duration_s / n;
    const int K = int(std::clamp(std::round(p.kernel_s / std::max(mean_unit, 1e-3)), 2.0, 64.0));
    out.novelty = unit_novelty(in, n, K);
    const std::vector<int> bounds = section_bounds(out.novelty, in.duration_s, mean_unit, p);
    make_sections(in, out.novelty, bounds, out);
    label_sections(out, in, label_threshold(out.section_means, in.dim, p.label_similarity));
    merge_repeated_neighbours(out, in, p.max_section_s);
    return out;
}

std::string assign_roles(std::vector<dna::Section>& secs, double duration_s) {
    if (secs.empty()) return "";
    std::map<std::string, int> count, returns;  // returns: separate runs of the label
    std::map<std::string, double> energy, len;
    for (size_t i = 0; i < secs.size(); ++i) {
        const auto& s = secs[i];
        ++count[s.label];
        if (i == 0 || secs[i - 1].label != s.label) ++returns[s.label];
        energy[s.label] += s.energy_lufs;
        len[s.label] += s.end_s - s.start_s;
    }
    double mean_energy = 0;
    for (const auto& s : secs) mean_energy += s.energy_lufs * (s.end_s - s.start_s);
    mean_energy /= duration_s;
    // Hook: the label that returns and is loudest, favouring more returns; not the opening.
    std::string hook;
    double best = -1e9;
    for (const auto& [label, c] : count) {
        const int r = returns[label];
        double e = energy[label] / c;
        double score = (e - mean_energy) / 3.0 + 0.6 * std::min(r, 4) + (r >= 2 ? 1.0 : 0.0);
        // The opening is rarely the hook: only when it comes back later and is not quieter.
        if (label == secs.front().label && (r == 1 || e < mean_energy)) score -= 2;
        if (score > best) {
            best = score;
            hook = label;
        }
    }
    if (secs.size() == 1) hook = "";
    // The bridge: at most one, a unique section after the first hook and before the last
    // one, the most different from the rest (lowest energy-normalized novelty rank aside,
    // the longest such section).
    size_t first_hook = secs.size(), last_hook = secs.size();
    for (size_t i = 0; i < secs.size(); ++i)
        if (!hook.empty() && secs[i].label == hook) {
            if (first_hook == secs.size()) first_hook = i;
            last_hook = i;
        }
    size_t bridge = secs.size();
    for (size_t i = first_hook + 1; i < last_hook && first_hook < secs.size(); ++i) {
        if (count[secs[i].label] != 1 || secs[i].label == hook) continue;
        if (bridge == secs.size() || secs[i].end_s - secs[i].start_s > secs[bridge].end_s - secs[bridge].start_s) bridge = i;
    }
    for (size_t i = 0; i < secs.size(); ++i) {
        auto& s = secs[i];
        const bool unique = count[s.label] == 1;
        const double len_s = s.end_s - s.start_s;
        if (!hook.empty() && s.label == hook) {
            s.role = "hook";
        } else if (i == 0 && secs.size() > 2 && (unique || s.energy_lufs < mean_energy - 2) && len_s < 0.2 * duration_s) {
            s.role = "intro";
        } else if (i + 1 == secs.size() && secs.size() > 2 && (unique || s.energy_lufs < mean_energy - 2) && len_s < 0.2 * duration_s) {
            s.role = "outro";
        } else if (i == bridge) {
            s.role = "bridge";
        } else if (i + 1 < secs.size() && secs[i + 1].label == hook && !hook.empty() &&
                   len_s <= 0.6 * (len[hook] / count[hook]) + 4) {
            s.role = "pre-hook";
        } else {
            s.role = "verse";
        }
    }
    return hook;
}

namespace {

// A drop found on the 1 s intensity curve, placed on the frame where the low end comes back:
// within 3 s before to 1 s after `coarse_s`, the frame after which the mean power below
// 250 Hz over 0.4 s rises most over the 0.4 s before it (in dB). `coarse_s` when there is no
// fine curve.
double refine_drop(const StructureInput& in, double coarse_s) {
    const auto& e = in.low_fine;
    if (e.empty() || in.fine_hop_s <= 0) return coarse_s;
    const long n = long(e.size()), w = std::max(1L, std::lround(0.4 / in.fine_hop_s));
    std::vector<double> cum(size_t(n) + 1, 0.0);
    for (long i = 0; i < n; ++i) cum[size_t(i) + 1] = cum[size_t(i)] + e[size_t(i)];
    auto mean = [&](long a, long b) { return (cum[size_t(b)] - cum[size_t(a)]) / double(b - a); };
    const long lo = std::max(w, std::lround((coarse_s - 3) / in.fine_hop_s)), hi = std::min(n - w, std::lround((coarse_s + 1) / in.fine_hop_s));
    long best = -1;
    double best_rise = 0;
    for (long i = lo; i <= hi; ++i) {
        const double rise = 10 * std::log10((mean(i, i + w) + 1e-12) / (mean(i - w, i) + 1e-12));
        if (rise > best_rise) best_rise = rise, best = i;
    }
    return best >= 0 && best_rise >= 6 ? double(best) * in.fine_hop_s : coarse_s;
}

}  // namespace

void detect_builds_drops(const StructureInput& in, std::vector<dna::Event>& builds, std::vector<dna::Event>& drops) {
    const auto& I = in.intensity;
    const size_t n = I.size();
    const double hop = in.hop_s;
    const int win = std::max(2, int(std::round(6.0 / hop)));
    std::vector<float> sorted(I.begin(), I.end());
    std::sort(sorted.begin(), sorted.end());
    const double range = sorted.empty() ? 0 : sorted[sorted.size() * 95 / 100] - sorted[sorted.size() * 5 / 100];
    const double min_rise = std::max(0.12, 0.4 * range), min_jump = std::max(0.2, 0.5 * range);
    // Build: intensity rises by 40 % of the song's range (at least 0.12) across a 6 s window,
    // rising in most steps.
    size_t t = 0;
    while (t + size_t(win) < n) {
        double rise = I[t + size_t(win)] - I[t];
        int ups = 0;
        for (size_t k = t; k < t + size_t(win); ++k) ups += I[k + 1] > I[k] - 0.01;
        if (rise >= min_rise && ups >= win * 2 / 3) {
            size_t end = t + size_t(win);
            while (end + 1 < n && I[end + 1] >= I[end] - 0.01) ++end;
            builds.push_back({t * hop, std::min(1.0, double(I[end] - I[t])), "build"});
            t = end + 1;
        } else {
            ++t;
        }
    }
    // Drop: within 2 s intensity jumps by half the song's range (at least 0.2) over the
    // preceding 3 s minimum, with the low end up >= 6 dB: the moment beat and bass come back.
    const size_t before = size_t(std::max(1.0, std::round(3 / hop))), ahead = size_t(std::max(1.0, std::round(2 / hop)));
    for (size_t i = 1; i < n; ++i) {
        const size_t lo = i >= before ? i - before : 0, hi = std::min(n, i + ahead + 1);
        double prev_min = *std::min_element(I.begin() + long(lo), I.begin() + long(i));
        double now_max = *std::max_element(I.begin() + long(i), I.begin() + long(hi));
        double prev_low = *std::min_element(in.low_db.begin() + long(lo), in.low_db.begin() + long(i));
        double now_low = *std::max_element(in.low_db.begin() + long(i), in.low_db.begin() + long(hi));
        // The rise must start here (at least 0.05 per second), and the event sits on the
        // steepest step of the jump.
        if (now_max - prev_min >= min_jump && now_low - prev_low >= 6 && I[i] - I[i - 1] > 0.05 * hop) {
            size_t steepest = i;
            for (size_t k = i; k < hi; ++k)
                if (I[k] - I[k - 1] > I[steepest] - I[steepest - 1]) steepest = k;
            const double at = refine_drop(in, steepest * hop);
            if (drops.empty() || at - drops.back().time_s > 8) drops.push_back({at, std::min(1.0, now_max - prev_min), "drop"});
            i = hi;  // one drop per jump
        }
    }
}

double surprise_factor(const StructureInput& in, int units_per_bar) {
    const int n = int(in.unit_times.size()) - 1, d = in.dim;
    const int bars = n / units_per_bar;
    if (bars < 4) return 0;
    std::vector<std::vector<double>> m(size_t(bars), std::vector<double>(size_t(d), 0.0));
    for (int b = 0; b < bars; ++b) {
        for (int u = b * units_per_bar; u < (b + 1) * units_per_bar; ++u)
            for (int k = 0; k < d; ++k) m[size_t(b)][size_t(k)] += in.unit_features[size_t(u) * size_t(d) + size_t(k)];
        normalize(m[size_t(b)]);
    }
    double total = 0;
    int counted = 0;
    for (int b = 2; b < bars; ++b) {
        double best = -1;
        for (int c = 0; c < b - 1; ++c) {
            double s = 0;
            for (int k = 0; k < d; ++k) s += m[size_t(b)][size_t(k)] * m[size_t(c)][size_t(k)];
            best = std::max(best, s);
        }
        total += std::clamp(1.0 - best, 0.0, 1.0);
        ++counted;
    }
    return counted ? std::clamp(total / counted, 0.0, 1.0) : 0;
}

}  // namespace hitdna::analysis
