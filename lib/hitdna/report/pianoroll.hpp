#pragma once
// A sketch's piano-roll overview as one self-contained SVG: the section timeline on top (the
// role colours of hitdna plot, labels, markers through every lane), then one lane per track
// (drums by kit piece, the others by pitch over the track's range), time in m:ss.
#include <string>

#include "hitdna/sketch/sketch.hpp"

namespace hitdna::report {

std::string piano_roll_svg(const sketch::Sketch& sketch, int width_px = 1000);

}  // namespace hitdna::report
