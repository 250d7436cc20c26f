#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

#include "hitdna/core/error.hpp"
#include "hitdna/dsp/fft.hpp"
#include "hitdna/dsp/filterbank.hpp"

using namespace hitdna;

TEST_CASE("fft: a bin-centred sine puts its power in that bin") {
    const int n = 1024;
    dsp::RealFft fft(n);
    std::vector<float> x(n), p(n / 2 + 1);
    for (int i = 0; i < n; ++i) x[size_t(i)] = float(std::sin(2 * std::numbers::pi * 64 * i / n));
    fft.power(x.data(), p.data());
    const auto peak = std::max_element(p.begin(), p.end()) - p.begin();
    CHECK(peak == 64);
    CHECK(p[64] == doctest::Approx(float(n * n / 4)).epsilon(1e-3));
}

TEST_CASE("fft: rejects bad sizes with the parameter name") {
    CHECK_THROWS_WITH_AS(dsp::RealFft(15), doctest::Contains("n_fft"), Error);
}

TEST_CASE("mel filters cover the range and are ordered") {
    auto mel = dsp::mel_filters(40, 1024, 22050, 30, 11000);
    REQUIRE(mel.size() == 40);
    for (size_t i = 1; i < mel.size(); ++i) CHECK(mel[i].first_bin >= mel[i - 1].first_bin);
    CHECK(mel.front().first_bin <= 3);
    CHECK(mel.back().first_bin + int(mel.back().weights.size()) >= 500);
}

TEST_CASE("chroma: an A4 sine lands on pitch class A") {
    const int n = 4096;
    const double sr = 22050;
    dsp::RealFft fft(n);
    auto win = dsp::hann(n);
    std::vector<float> x(n), p(n / 2 + 1);
    for (int i = 0; i < n; ++i) x[size_t(i)] = win[size_t(i)] * float(std::sin(2 * std::numbers::pi * 440 * i / sr));
    fft.power(x.data(), p.data());
    auto map = dsp::chroma_map(n, sr, 65, 2100);
    float c[12];
    dsp::apply_chroma(map, p.data(), c);
    CHECK(std::max_element(c, c + 12) - c == 9);
    CHECK(c[9] > 20 * c[8]);
}

TEST_CASE("dct matrix is orthonormal") {
    auto m = dsp::dct_matrix(8, 8);
    for (int a = 0; a < 8; ++a)
        for (int b = 0; b < 8; ++b) {
            double s = 0;
            for (int i = 0; i < 8; ++i) s += double(m[size_t(a * 8 + i)]) * m[size_t(b * 8 + i)];
            CHECK(s == doctest::Approx(a == b ? 1.0 : 0.0).epsilon(1e-5));
        }
}
