#include "hitdna/generate/synth.hpp"

#include "hitdna/sketch/master.hpp"
#include "hitdna/sketch/render.hpp"

namespace hitdna::generate {

Rendered render(const enrich::Target& t, const SynthOptions& o) {
    Rendered out;
    sketch::SketchOptions so;
    so.seed = o.seed;
    so.energy_contrast = o.energy_contrast;
    out.sketch = sketch::make_sketch(t, so);
    sketch::RenderOptions ro;
    ro.soundfont = out.soundfont = sketch::find_soundfont(o.soundfont);
    ro.sample_rate = o.sample_rate;
    auto audio = sketch::render(out.sketch, ro);
    sketch::MasterOptions mo;
    mo.target_lufs = t.production.integrated_lufs;
    mo.target_width = t.production.mean_width;
    const auto m = sketch::master(audio.samples, audio.sample_rate, mo);
    out.samples = std::move(audio.samples);
    out.sample_rate = audio.sample_rate;
    out.duration_s = double(out.samples.size() / 2) / out.sample_rate;
    out.integrated_lufs = m.lufs_after;
    out.true_peak_dbtp = m.true_peak_dbtp;
    return out;
}

}  // namespace hitdna::generate
