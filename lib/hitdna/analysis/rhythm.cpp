#include "hitdna/analysis/rhythm.hpp"

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <numeric>

namespace hitdna::analysis {
namespace {

double interp(const std::vector<double>& a, double x) {
    if (x < 0) return 0;
    size_t i = static_cast<size_t>(x);
    if (i + 1 >= a.size()) return i < a.size() ? a[i] : 0;
    double f = x - static_cast<double>(i);
    return a[i] * (1 - f) + a[i + 1] * f;
}

std::vector<double> moving_average(const std::vector<double>& x, int half) {
    std::vector<double> out(x.size());
    std::vector<double> cs(x.size() + 1, 0.0);
    for (size_t i = 0; i < x.size(); ++i) cs[i + 1] = cs[i] + x[i];
    for (size_t i = 0; i < x.size(); ++i) {
        size_t lo = i >= size_t(half) ? i - size_t(half) : 0, hi = std::min(x.size(), i + size_t(half) + 1);
        out[i] = (cs[hi] - cs[lo]) / double(hi - lo);
    }
    return out;
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::nth_element(v.begin(), v.begin() + long(v.size() / 2), v.end());
    return v[v.size() / 2];
}

// Onset strength sampled at fractional frame t (max over +-1 frame, tolerant to jitter).
double onset_at(const std::vector<double>& o, double t) {
    long c = std::lround(t);
    double best = 0;
    for (long k = c - 1; k <= c + 1; ++k)
        if (k >= 0 && k < long(o.size())) best = std::max(best, o[size_t(k)]);
    return best;
}

// Ellis (2007) dynamic-programming beat tracker; period[t] is the expected beat period (in
// frames) at frame t, so that the tracker follows tempo changes the local tempo found.
std::vector<double> track_beats(const std::vector<double>& o, const std::vector<double>& period, double tightness) {
    const size_t n = o.size();
    if (n < 4 || period.size() != n) return {};
    double sd = 0, mean = std::accumulate(o.begin(), o.end(), 0.0) / double(n);
    for (double v : o) sd += (v - mean) * (v - mean);
    sd = std::sqrt(sd / double(n));
    if (sd <= 1e-9) return {};
    std::vector<double> local(n);
    for (size_t i = 0; i < n; ++i) local[i] = o[i] / sd;
    std::vector<double> score(n);
    std::vector<long> back(n, -1);
    for (size_t t = 0; t < n; ++t) {
        const double per = period[t];
        const long lo_off = long(std::round(per / 2)), hi_off = long(std::round(2 * per));
        double best = -1e30;
        long arg = -1;
        for (long d = std::max(1L, lo_off); d <= hi_off; ++d) {
            long tau = long(t) - d;
            if (tau < 0) break;
            double pen = std::log(double(d) / per);
            double s = score[size_t(tau)] - tightness * pen * pen;
            if (s > best) {
                best = s;
                arg = tau;
            }
        }
        score[t] = local[t] + (arg >= 0 ? std::max(best, 0.0) : 0.0);
        back[t] = (arg >= 0 && best > 0) ? arg : -1;
    }
    // Start from the best-scoring frame in the last period that is a local maximum.
    size_t start = n - 1;
    double best = -1e30;
    for (size_t t = n > size_t(period.back()) ? n - size_t(period.back()) : 0; t < n; ++t)
        if (score[t] > best) {
            best = score[t];
            start = t;
        }
    std::vector<double> beats;
    for (long t = long(start); t >= 0; t = back[size_t(t)]) beats.push_back(double(t));
    std::reverse(beats.begin(), beats.end());
    // Trim weak beats at the edges (fades, silence before the music starts).
    double thresh = 0;
    {
        std::vector<double> at;
        for (double b : beats) at.push_back(onset_at(local, b));
        double rms = 0;
        for (double v : at) rms += v * v;
        thresh = 0.5 * std::sqrt(rms / std::max<size_t>(1, at.size()));
    }
    size_t first = 0, last = beats.size();
    while (first < last && onset_at(local, beats[first]) < thresh) ++first;
    while (last > first && onset_at(local, beats[last - 1]) < thresh) --last;
    return {beats.begin() + long(first), beats.begin() + long(last)};
}

// Slope of beat time against beat index over beats [i0, i1): seconds per beat.
double beat_period_regression(const std::vector<double>& b, size_t i0, size_t i1) {
    const double n = double(i1 - i0);
    if (n < 3) return 0;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t i = i0; i < i1; ++i) {
        double x = double(i - i0), y = b[i];
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    double den = n * sxx - sx * sx;
    return den > 0 ? (n * sxy - sx * sy) / den : 0;
}

// Local beat period (frames) every `step` frames: the autocorrelation of an 8 s window of
// the onset envelope, plus half its value at twice the lag, searched within 0.86..1.17 x the
// global period's tempo (so neither the metrical level nor a 4:5 or 3:4 relation can take
// over) and weighted toward the global tempo (Gaussian in log tempo, 0.2 octave), refined by a
// parabola, then median-smoothed over 5 steps. Windows without onsets take their neighbours'.
std::vector<double> local_periods(const std::vector<double>& od, double fps, double global_period, size_t step) {
    const size_t n = od.size();
    const size_t half = size_t(4.0 * fps);
    const double lo = global_period / k_local_max_ratio, hi = global_period / k_local_min_ratio;
    std::vector<double> per;
    std::vector<bool> valid;
    for (size_t c = 0; c < n; c += step) {
        const size_t a = c > half ? c - half : 0, b = std::min(n, c + half);
        std::vector<double> seg(od.begin() + long(a), od.begin() + long(b));
        double m = std::accumulate(seg.begin(), seg.end(), 0.0) / std::max<size_t>(1, seg.size());
        for (auto& v : seg) v -= m;
        const int max_lag = int(std::ceil(4 * hi)) + 4;
        if (seg.size() < size_t(2 * max_lag)) {
            per.push_back(global_period);
            valid.push_back(false);
            continue;
        }
        auto acf = autocorrelation(seg, max_lag);
        if (acf[0] <= 1e-12) {
            per.push_back(global_period);
            valid.push_back(false);
            continue;
        }
        int best = -1;
        double best_v = -1e30;
        auto val = [&](int l) {
            const double z = std::log2(double(l) / global_period) / k_local_prior_octaves;
            return (acf[size_t(l)] + 0.5 * interp(acf, 2.0 * l)) * std::exp(-0.5 * z * z);
        };
        for (int l = int(std::floor(lo)); l <= int(std::ceil(hi)) && l + 1 < max_lag; ++l) {
            if (l < 2) continue;
            double v = val(l);
            if (v > best_v) {
                best_v = v;
                best = l;
            }
        }
        if (best < 0 || best_v <= 0) {
            per.push_back(global_period);
            valid.push_back(false);
            continue;
        }
        // Refine on the peak near four periods: a 1-frame error there is a quarter frame per beat.
        int b4 = 4 * best;
        for (int l = std::max(2, 4 * best - 3); l <= std::min(max_lag - 1, 4 * best + 3); ++l)
            if (acf[size_t(l)] > acf[size_t(b4)]) b4 = l;
        double y0 = acf[size_t(b4 - 1)], y1 = acf[size_t(b4)], y2 = acf[size_t(std::min(max_lag, b4 + 1))];
        double den = y0 - 2 * y1 + y2;
        double d = std::abs(den) > 1e-12 ? std::clamp(0.5 * (y0 - y2) / den, -0.5, 0.5) : 0.0;
        per.push_back((b4 + d) / 4.0);
        valid.push_back(true);
    }
    // Fill invalid windows from the nearest valid one.
    for (size_t i = 0; i < per.size(); ++i) {
        if (valid[i]) continue;
        size_t l = i, r = i;
        while (l > 0 && !valid[l]) --l;
        while (r + 1 < per.size() && !valid[r]) ++r;
        if (valid[l] && (!valid[r] || i - l <= r - i)) per[i] = per[l];
        else if (valid[r]) per[i] = per[r];
    }
    std::vector<double> smooth(per.size());
    for (size_t i = 0; i < per.size(); ++i) {
        std::vector<double> w;
        for (size_t k = i >= 2 ? i - 2 : 0; k <= std::min(per.size() - 1, i + 2); ++k) w.push_back(per[k]);
        smooth[i] = median(w);
    }
    return smooth;
}


// The onset envelope prepared for the tempo work.
struct Envelope {
    std::vector<double> od;  // detrended (0.5 s moving average subtracted), positive part
    std::vector<double> oz;  // od minus its mean
    double mean = 0;         // mean of od
};

Envelope detrended_envelope(const std::vector<float>& onset_f, double fps) {
    Envelope env;
    std::vector<double> o(onset_f.begin(), onset_f.end());
    // Detrend: subtract a 0.5 s moving average, keep the positive part.
    auto avg = moving_average(o, int(std::round(0.25 * fps)));
    env.od.resize(o.size());
    for (size_t i = 0; i < o.size(); ++i) env.od[i] = std::max(0.0, o[i] - avg[i]);
    env.mean = std::accumulate(env.od.begin(), env.od.end(), 0.0) / double(env.od.size());
    env.oz.resize(env.od.size());
    for (size_t i = 0; i < env.od.size(); ++i) env.oz[i] = env.od[i] - env.mean;
    return env;
}

// Onset peaks (frame indices): local maxima within +-50 ms above the song's mean by half a
// standard deviation, at least 50 ms apart.
std::vector<int> pick_onset_peaks(const Envelope& env, double fps) {
    const auto& od = env.od;
    std::vector<int> peaks;
    double sd = 0;
    for (double v : env.oz) sd += v * v;
    sd = std::sqrt(sd / double(env.oz.size()));
    const int w = std::max(1, int(std::round(0.05 * fps)));
    for (size_t i = 1; i + 1 < od.size(); ++i) {
        // Relative to the song, and at least 0.5 dB of mean flux: steady tones have none.
        if (od[i] < env.mean + 0.5 * sd || od[i] < 0.5) continue;
        bool peak = true;
        for (int k = -w; k <= w && peak; ++k) {
            long j = long(i) + k;
            if (j >= 0 && j < long(od.size()) && k != 0 && od[size_t(j)] > od[i]) peak = false;
        }
        if (peak && (peaks.empty() || double(long(i) - peaks.back()) > 0.05 * fps))
            peaks.push_back(int(i));
    }
    return peaks;
}

struct TempoPeak {
    double bpm, sal, score;  // score: salience x tempo prior
};

// Tempo salience on a log-spaced grid (ACF at the beat lag plus its multiples); returns its
// local maxima, refined, best score first.
std::vector<TempoPeak> tempo_candidates(const std::vector<double>& acf, double fps, const TempoParams& p) {
    std::vector<double> grid, sal;
    for (double bpm = p.min_bpm; bpm <= p.max_bpm; bpm *= 1.005) {
        const double lag = 60.0 * fps / bpm;
        double s = interp(acf, lag) + 0.5 * interp(acf, 2 * lag) + 0.25 * interp(acf, 4 * lag);
        grid.push_back(bpm);
        sal.push_back(std::max(0.0, s));
    }
    auto prior = [&](double bpm) {
        double z = std::log2(bpm / p.prior_centre_bpm) / p.prior_octaves;
        return std::exp(-0.5 * z * z);
    };
    // Candidates: local maxima of salience.
    std::vector<TempoPeak> cands;
    for (size_t i = 1; i + 1 < grid.size(); ++i)
        if (sal[i] > 0 && sal[i] >= sal[i - 1] && sal[i] >= sal[i + 1]) {
            // Parabolic refinement on the log grid.
            double a = sal[i - 1], b = sal[i], c = sal[i + 1];
            double den = a - 2 * b + c, d = std::abs(den) > 1e-12 ? 0.5 * (a - c) / den : 0;
            double bpm = grid[i] * std::pow(1.005, std::clamp(d, -0.5, 0.5));
            cands.push_back({bpm, b, b * prior(bpm)});
        }
    std::sort(cands.begin(), cands.end(), [](const TempoPeak& x, const TempoPeak& y) { return x.score > y.score; });
    return cands;
}

// The beat period (frames) at each of n frames, interpolated from local periods every `step`
// frames.
std::vector<double> frame_periods(const std::vector<double>& local, size_t step, size_t n) {
    std::vector<double> frame_period(n);
    for (size_t t = 0; t < n; ++t) {
        const double x = double(t) / double(step);
        const size_t i = std::min(local.size() - 1, size_t(x));
        const double f = std::min(1.0, x - double(i));
        frame_period[t] = i + 1 < local.size() ? local[i] * (1 - f) + local[i + 1] * f : local[i];
    }
    return frame_period;
}

// Local tempo (BPM) every `step` frames from the local periods (the periodicity the beat
// tracker follows; the song's curve is read from the beats later, in analyze's fill_meter).
void fill_local_tempo(RhythmResult& r, const std::vector<double>& local, size_t step, double fps) {
    r.local_step_s = double(step) / fps;
    for (double period : local) r.local_bpm.push_back(60.0 * fps / period);
}

// BPM: the global estimate, refined by the regression of beat time on beat index over
// all beats (sub-frame precision) when that agrees within 4 %; with a changing tempo the
// regression gives the average beat rate, and the global (predominant) tempo stays.
double refined_bpm(const std::vector<double>& beats_s, double chosen_bpm, const TempoParams& p) {
    double bpm = chosen_bpm;
    if (beats_s.size() >= 8) {
        double spb = beat_period_regression(beats_s, 0, beats_s.size());
        if (spb > 0 && std::abs(60.0 / spb / chosen_bpm - 1) < 0.04 && 60.0 / spb >= p.min_bpm && 60.0 / spb <= p.max_bpm) bpm = 60.0 / spb;
    }
    return bpm;
}

// Syncopation from the onset strength at the 16th positions of each beat, and the swing
// ratio from where within the beat the strongest off-beat onset sits.
void fill_syncopation_swing(RhythmResult& r, const std::vector<double>& od, const std::vector<double>& beat_frames) {
    double pos[4] = {0, 0, 0, 0};
    std::vector<double> offbeat_pos;
    for (size_t i = 0; i + 1 < beat_frames.size(); ++i) {
        const double b0 = beat_frames[i], b1 = beat_frames[i + 1], len = b1 - b0;
        for (int k = 0; k < 4; ++k) pos[k] += onset_at(od, b0 + len * k / 4.0);
        // Where within the beat the strongest off-beat onset sits (swing).
        double best = 0, best_t = -1;
        for (double f = 0.4; f <= 0.8; f += 0.5 / len) {
            double v = onset_at(od, b0 + len * f);
            if (v > best) {
                best = v;
                best_t = f;
            }
        }
        if (best_t > 0 && best > 0.3 * onset_at(od, b0)) offbeat_pos.push_back(best_t);
    }
    const double sum = pos[0] + pos[1] + pos[2] + pos[3];
    if (sum > 0) {
        const double w[4] = {0.0, 0.75, 0.5, 0.75};  // 1 - metric weight
        double s = 0;
        for (int k = 0; k < 4; ++k) s += w[k] * pos[k];
        r.syncopation = std::clamp(s / sum / 0.5, 0.0, 1.0);
    }
    if (offbeat_pos.size() > beat_frames.size() / 4) {
        double m = median(offbeat_pos);
        r.swing_ratio = std::clamp(m / (1 - m), 1.0, 3.0);
    }
}

// Inter-onset-interval entropy in beat units (period in frames), 0..1: irregular rhythms
// spread wider.
double ioi_entropy(const std::vector<int>& onset_peaks, double period) {
    std::vector<double> hist(16, 0.0);
    for (size_t i = 1; i < onset_peaks.size(); ++i) {
        double ioi = (onset_peaks[i] - onset_peaks[i - 1]) / period;
        int bin = int(std::lround(ioi * 4));
        if (bin >= 1 && bin <= 16) hist[size_t(bin - 1)] += 1;
    }
    double hs = std::accumulate(hist.begin(), hist.end(), 0.0), ent = 0;
    for (double h : hist)
        if (h > 0) ent -= h / hs * std::log(h / hs);
    return hs > 0 ? ent / std::log(16.0) : 0;
}

// Rhythm descriptors on the beat grid: syncopation, swing, complexity and groove.
void fill_beat_descriptors(RhythmResult& r, const std::vector<double>& od, const std::vector<double>& beat_frames, double period,
                           double chosen_bpm) {
    fill_syncopation_swing(r, od, beat_frames);
    const double entropy = ioi_entropy(r.onset_peaks, period);
    const double density = std::clamp(r.onset_rate_per_s / (4 * chosen_bpm / 60.0), 0.0, 1.0);
    r.rhythmic_complexity = std::clamp(0.5 * r.syncopation + 0.3 * entropy + 0.2 * density, 0.0, 1.0);
    // Groove: clear pulse, moderate syncopation (inverted U), a danceable tempo.
    const double sync_u = 4 * r.syncopation * (1 - r.syncopation);
    const double tempo_fit = std::exp(-0.5 * std::pow(std::log2(chosen_bpm / 115.0) / 0.4, 2));
    r.groove = std::clamp(std::cbrt(std::clamp(r.pulse_clarity * 2.5, 0.0, 1.0) * (0.3 + 0.7 * sync_u) * (0.3 + 0.7 * tempo_fit)), 0.0, 1.0);
}

// The tracked beats between t0 and t1 (seconds): how many, and the time from the first to the
// last.
struct BeatSpan {
    size_t n = 0;
    double span_s = 0;
};
BeatSpan beats_between(const std::vector<double>& beats_s, double t0, double t1) {
    auto lo = std::lower_bound(beats_s.begin(), beats_s.end(), t0), hi = std::upper_bound(beats_s.begin(), beats_s.end(), t1);
    if (hi <= lo) return {};
    return {size_t(hi - lo), *(hi - 1) - *lo};
}

}  // namespace

std::vector<double> beat_local_bpm(const std::vector<double>& local_bpm, double step_s, const std::vector<double>& beats_s, double bar_s) {
    std::vector<double> out = local_bpm;
    for (size_t i = 0; i < out.size(); ++i) {
        const double t = double(i) * step_s;
        const size_t lo = size_t(std::lower_bound(beats_s.begin(), beats_s.end(), t - 2 * bar_s) - beats_s.begin());
        const size_t hi = size_t(std::upper_bound(beats_s.begin(), beats_s.end(), t + 2 * bar_s) - beats_s.begin());
        if (hi < lo + 4) continue;
        // The slope of beat time on beat index: a frame's rounding of one beat moves it little.
        const double spb = beat_period_regression(beats_s, lo, hi);
        if (spb > 0) out[i] = 60.0 / spb;
    }
    return out;
}

std::vector<dna::TempoChange> held_tempo_changes(const std::vector<double>& local_bpm, double step_s, double bpm, double bar_s,
                                                 const std::vector<double>& beats_s) {
    std::vector<dna::TempoChange> out;
    if (local_bpm.empty() || bpm <= 0 || step_s <= 0 || bar_s <= 0) return out;
    // Median over +-2 bars, so that a change must fill most of 4 bars to show.
    const size_t half = size_t(std::max(1.0, std::round(2 * bar_s / step_s)));
    std::vector<double> sm(local_bpm.size());
    for (size_t i = 0; i < local_bpm.size(); ++i) {
        std::vector<double> w(local_bpm.begin() + long(i >= half ? i - half : 0), local_bpm.begin() + long(std::min(local_bpm.size(), i + half + 1)));
        sm[i] = median(w);
    }
    // Runs away from bpm (beyond the tolerance) that last >= k_held_change_bars bars.
    const size_t min_len = size_t(std::ceil(k_held_change_bars * bar_s / step_s));
    size_t i = 0;
    while (i < sm.size()) {
        if (std::abs(sm[i] / bpm - 1) <= k_tempo_tolerance) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < sm.size() && std::abs(sm[j] / bpm - 1) > k_tempo_tolerance && (sm[j] > bpm) == (sm[i] > bpm)) ++j;
        // The tracked beats must hold the change too: span at least k_held_change_bars bars in
        // the run (the smoothing above widens a shorter deviation of the beats, a stop-time
        // ending say, into a run that looks long enough), and move off the steady grid by more
        // than a beat and a half, on the run's side: one beat gained or lost is the tracker
        // dropping or doubling a beat in a fill or a riff against the beat, then landing back on
        // the grid, not a change of tempo.
        const BeatSpan b = beats_between(beats_s, double(i) * step_s, double(j) * step_s);
        const double shift = b.n >= 4 ? (double(b.n) - 1) - b.span_s * bpm / 60.0 : 0;  // beats ahead of the grid
        const bool held = b.span_s >= k_held_change_bars * bar_s && std::abs(shift) >= k_held_change_min_shift_beats &&
                          (shift > 0) == (sm[i] > bpm);
        if (j - i >= min_len && held) {
            std::vector<double> run(sm.begin() + long(i), sm.begin() + long(j));
            out.push_back({std::round(double(i) * step_s * 100) / 100, std::round(median(run) * 10) / 10});
            if (j < sm.size()) {
                std::vector<double> after(sm.begin() + long(j), sm.begin() + long(std::min(sm.size(), j + min_len)));
                out.push_back({std::round(double(j) * step_s * 100) / 100, std::round(median(after) * 10) / 10});
            }
        }
        i = j;
    }
    // A change back that lands next to the start of another run is one change, not two.
    std::vector<dna::TempoChange> merged;
    for (const auto& c : out) {
        if (!merged.empty() && c.time_s - merged.back().time_s < bar_s) merged.back() = c;
        else merged.push_back(c);
    }
    return merged;
}

std::vector<double> autocorrelation(const std::vector<double>& x, int max_lag) {
    std::vector<double> r(size_t(max_lag) + 1, 0.0);
    const size_t n = x.size();
    for (int l = 0; l <= max_lag && size_t(l) < n; ++l) {
        double acc = 0;
        const double* a = x.data();
        const double* b = x.data() + l;
        const size_t m = n - size_t(l);
        for (size_t i = 0; i < m; ++i) acc += a[i] * b[i];
        r[size_t(l)] = acc / double(m);
    }
    return r;
}

RhythmResult analyze_rhythm(const std::vector<float>& onset_f, double fps, bool silent, const TempoParams& p) {
    RhythmResult r;
    const double duration = double(onset_f.size()) / fps;
    char buf[96];
    if (silent) {
        r.null_reason = "silence: no audible signal";
        return r;
    }
    if (duration < 4.0) {
        std::snprintf(buf, sizeof buf, "too short for tempo: %.2f s (needs at least 4 s)", duration);
        r.null_reason = buf;
        return r;
    }
    const Envelope env = detrended_envelope(onset_f, fps);
    r.onset_peaks = pick_onset_peaks(env, fps);
    r.onset_rate_per_s = double(r.onset_peaks.size()) / duration;

    const int max_lag = int(std::ceil(60.0 * fps / p.min_bpm * 4)) + 2;
    auto acf = autocorrelation(env.oz, max_lag);
    if (acf[0] <= 1e-12) {
        r.null_reason = "no onsets: the signal has no rhythmic events";
        return r;
    }
    // Normalized by the lag-0 value (copied first: dividing acf[0] by itself in the loop left
    // every other lag unnormalized, scaled by the song's onset energy).
    const double acf0 = acf[0];
    for (auto& v : acf) v /= acf0;
    const std::vector<TempoPeak> cands = tempo_candidates(acf, fps, p);
    if (cands.empty()) {
        std::snprintf(buf, sizeof buf, "no steady beat: no periodicity between %.0f and %.0f BPM", p.min_bpm, p.max_bpm);
        r.null_reason = buf;
        return r;
    }
    // Pulse clarity: the strongest periodicity of the envelope within the tempo range (the
    // normalized autocorrelation's highest value there), whichever metrical level it is.
    double clearest = 0;
    for (double lag = 60.0 * fps / p.max_bpm; lag <= 60.0 * fps / p.min_bpm && lag + 1 < double(acf.size()); lag += 1.0)
        clearest = std::max(clearest, acf[size_t(std::lround(lag))]);
    r.pulse_clarity = std::clamp(clearest, 0.0, 1.0);
    if (r.pulse_clarity < p.min_pulse_clarity) {
        std::snprintf(buf, sizeof buf, "no steady beat: pulse clarity %.3f below %.2f", r.pulse_clarity, p.min_pulse_clarity);
        r.null_reason = buf;
        return r;
    }
    double total = 0;
    for (size_t i = 0; i < cands.size() && i < 5; ++i) total += cands[i].score;
    for (size_t i = 0; i < cands.size() && i < 5; ++i)
        r.candidates.push_back({std::round(cands[i].bpm * 10) / 10, cands[i].score / total});
    double chosen = cands[0].bpm;
    const double period = 60.0 * fps / chosen;
    // Local tempo every second, interpolated to every frame for the beat tracker.
    const size_t step = size_t(std::max(1.0, std::round(fps)));
    const auto local = local_periods(env.od, fps, period, step);
    auto beat_frames = track_beats(env.od, frame_periods(local, step, env.od.size()), p.tightness);
    r.confidence = std::clamp(r.pulse_clarity * 2.0, 0.0, 1.0) * (r.candidates.empty() ? 0 : r.candidates[0].weight);
    for (double b : beat_frames) r.beats_s.push_back(b / fps);
    fill_local_tempo(r, local, step, fps);
    r.bpm = std::round(refined_bpm(r.beats_s, chosen, p) * 100) / 100;
    if (beat_frames.size() >= 8) fill_beat_descriptors(r, env.od, beat_frames, period, chosen);
    return r;
}

}  // namespace hitdna::analysis
