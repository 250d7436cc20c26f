// The two generators behind generate::run: hitdna's synthesizer and the ElevenLabs Music API.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <ostream>

#include "hitdna/audio/wav.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/generate/run.hpp"
#include "hitdna/generate/synth.hpp"
#include "hitdna/sketch/midi.hpp"

using json = nlohmann::json;

namespace hitdna::generate {

namespace {

uint32_t next_seed(uint32_t seed) { return seed >= 2147483647u ? 0 : seed + 1; }

// The measured tempo is off by 1-20 %: near enough to be the intended beat, far enough to fix.
bool tempo_off(const dna::Dna& d, const enrich::Target& t) {
    return d.audio.bpm && std::abs(*d.audio.bpm / t.bpm - 1) > 0.01 && std::abs(*d.audio.bpm / t.bpm - 1) < 0.2;
}

class LocalBackend : public Backend {
public:
    LocalBackend(const enrich::Target& t, uint32_t seed, const std::string& soundfont) : m_plan(enrich::composition_plan(t, "music_v1")) {
        m_options.seed = seed;
        m_options.soundfont = soundfont;
    }
    std::string name() const override { return "local"; }

    void make(const enrich::Target& t, json& attempt, std::ostream&) override {
        attempt["seed"] = m_options.seed;
        m_rendered = render(t, m_options);
        attempt["energy_contrast"] = m_options.energy_contrast;
        attempt["soundfont"] = m_rendered.soundfont;
        attempt["true_peak_dbtp"] = m_rendered.true_peak_dbtp;
    }

    Take write(const std::string& path, const enrich::Target&) override {
        audio::write_wav(path, m_rendered.samples, m_rendered.sample_rate, 2);
        return {m_rendered.integrated_lufs, m_rendered.duration_s, true};
    }

    // The sketch plays the target's tempo exactly, so a misread tempo is not corrected by
    // playing another: more energy contrast when the arc came out flat, else another seed
    // (other progressions, groove, instruments and motif).
    void adjust(const enrich::Target&, const dna::Dna&, const validate::Report& rep) override {
        if (rep.energy_correlation < 0.8 && m_options.energy_contrast < 2) m_options.energy_contrast *= 1.3;
        else m_options.seed = next_seed(m_options.seed);
    }

    std::vector<uint8_t> midi(const json& attempt, const enrich::Target& t) const override {
        sketch::SketchOptions so;
        so.seed = attempt.at("seed").get<uint32_t>();
        so.energy_contrast = attempt.at("energy_contrast").get<double>();
        return sketch::midi_bytes(sketch::make_sketch(t, so));
    }

    void describe(json& record) const override {
        record["generator"] = "hitdna-sketch-1";
        record["sketch_seed"] = m_rendered.sketch.seed;
        record["sketch_summary"] = m_rendered.sketch.summary;
        record["soundfont"] = m_rendered.soundfont;
        record["composition_plan"] = m_plan;
    }

private:
    SynthOptions m_options;
    json m_plan;
    Rendered m_rendered;
};

class ElevenLabsBackend : public Backend {
public:
    ElevenLabsBackend(const enrich::Target& t, const ElevenLabsOptions& o) : m_o(o), m_seed(o.seed), m_plan(enrich::composition_plan(t, o.model)) {}
    std::string name() const override { return "elevenlabs"; }

    void make(const enrich::Target& t, json& attempt, std::ostream& log) override {
        attempt["seed"] = m_seed;
        json body = {{"composition_plan", m_plan}, {"model_id", m_o.model}, {"seed", m_seed}};
        if (m_o.model == "music_v1") body["respect_sections_durations"] = true;
        if (m_suggested_prompt_body) body = *m_suggested_prompt_body;
        ComposeResult res;
        try {
            res = compose(m_o.config, body);
        } catch (const ElevenLabsError& e) {
            if (!m_o.accept_suggestion || m_suggestion_used || (!e.refusal.plan_suggestion && !e.refusal.prompt_suggestion)) throw;
            take_suggestion(e, t, body);
            log << "hitdna generate: " << e.what() << "; retrying once with the suggestion\n";
            attempt["suggestion_used"] = true;
            res = compose(m_o.config, body);
        }
        attempt["request"] = body;
        attempt["http_requests"] = res.attempts;
        attempt["song_id"] = res.song_id;
        m_song_id = res.song_id;
        m_audio = std::move(res.audio);
    }

    Take write(const std::string& path, const enrich::Target& t) override {
        std::ofstream f(path, std::ios::binary);
        f.write(reinterpret_cast<const char*>(m_audio.data()), std::streamsize(m_audio.size()));
        f.close();
        if (!f) throw Error(ErrorKind::io, path + ": cannot write (disk full?)");
        return {0, t.duration_s, false};
    }

    // Another seed; a tempo off by a few percent is nudged in the plan's styles.
    void adjust(const enrich::Target& t, const dna::Dna& d, const validate::Report&) override {
        m_seed = next_seed(m_seed);
        if (tempo_off(d, t) && !m_suggestion_used) {
            m_tempo_nudge *= t.bpm / *d.audio.bpm;
            enrich::Target nudged = t;
            nudged.bpm = std::round(t.bpm * m_tempo_nudge);
            m_plan = enrich::composition_plan(nudged, m_o.model);
        }
    }

    void describe(json& record) const override {
        record["generator"] = m_o.model;
        record["output_format"] = m_o.config.output_format;
        record["song_id"] = m_song_id;
        record["composition_plan"] = m_plan;
    }

private:
    // A refusal's suggestion replaces the plan (when it is a plan for this model) or the whole
    // request (a prompt, for every later attempt).
    void take_suggestion(const ElevenLabsError& e, const enrich::Target& t, json& body) {
        m_suggestion_used = true;
        if (e.refusal.plan_suggestion) {
            const bool v1 = e.refusal.plan_suggestion->contains("sections"), v2 = e.refusal.plan_suggestion->contains("chunks");
            if ((m_o.model == "music_v1" && !v1) || (m_o.model == "music_v2" && !v2))
                throw Error(ErrorKind::remote, std::string(e.what()) + "; the suggested plan is not a " + m_o.model + " plan, not used");
            m_plan = *e.refusal.plan_suggestion;
            body["composition_plan"] = m_plan;
        } else {
            body = {{"prompt", *e.refusal.prompt_suggestion}, {"model_id", m_o.model}, {"music_length_ms", std::clamp(int(t.duration_s * 1000), 3000, 600000)}};
            m_suggested_prompt_body = body;
        }
    }

    ElevenLabsOptions m_o;
    uint32_t m_seed;
    json m_plan;
    double m_tempo_nudge = 1.0;  // the BPM written into the styles is scaled by this
    bool m_suggestion_used = false;
    std::optional<json> m_suggested_prompt_body;
    std::string m_song_id;
    std::vector<unsigned char> m_audio;
};

}  // namespace

std::unique_ptr<Backend> local_backend(const enrich::Target& target, uint32_t seed, const std::string& soundfont) {
    return std::make_unique<LocalBackend>(target, seed, soundfont);
}

std::unique_ptr<Backend> elevenlabs_backend(const enrich::Target& target, const ElevenLabsOptions& options) {
    return std::make_unique<ElevenLabsBackend>(target, options);
}

}  // namespace hitdna::generate
