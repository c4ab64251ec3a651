// Integer-only test signal shared with fixtures/make_spectrogram_fixtures.py (`synth_int16`): both languages
// produce identical samples, so the spectrogram fixtures need no stored audio.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace avsl::data::testing {

inline std::vector<int16_t> SynthInt16(int64_t n, int channels, uint64_t seed) {
  std::vector<int16_t> out(static_cast<size_t>(n * channels));
  uint64_t state = seed;
  for (int c = 0; c < channels; ++c) {
    const int64_t tri_p = 97 + 40 * c + static_cast<int64_t>(seed % 13);
    const int64_t saw_p = 1234 + static_cast<int64_t>(seed) + 7 * c;
    for (int64_t i = 0; i < n; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      const int64_t noise = static_cast<int64_t>((state >> 33) & 0x7FFF) - 16384;
      const int64_t ph = i % tri_p;
      const int64_t tri = (std::llabs(2 * ph - tri_p) * 20000) / tri_p - 10000;
      const int64_t saw = ((i % saw_p) * 12000) / saw_p - 6000;
      // Python's >> floors; so does >> on a negative int64 with GCC/Clang (arithmetic shift).
      int64_t v = (noise >> 2) + tri + saw;
      if ((i / 4096) % 7 == 3) v = 0;
      if (i % 5003 == 17) {
        v = -32768;
      } else if (i % 5003 == 18) {
        v = 32767;
      }
      out[static_cast<size_t>(i * channels + c)] = static_cast<int16_t>(std::clamp<int64_t>(v, -32768, 32767));
    }
  }
  return out;
}

}  // namespace avsl::data::testing
