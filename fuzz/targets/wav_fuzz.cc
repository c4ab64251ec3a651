// Audio as the datasets read it: decode (avsl/data/wav_reader.h, libsndfile), the reference's 3-second centred
// window (avsl/data/audio_clip.h), then its log spectrogram, so odd rates, channel counts and lengths reach the
// preprocessing too.
#include "avsl/data/audio_clip.h"
#include "avsl/data/spectrogram.h"
#include "fuzz_file.h"
#include "fuzz_target.h"

AVSL_FUZZ_TARGET(wav) {
  auto clip = avsl::data::LoadAudioClip(avsl::fuzz::WriteInput(data, size, ".wav"));
  if (!clip.ok()) return 0;
  (void)avsl::data::ComputeSpectrogram(clip->samples, clip->sample_rate);
  return 0;
}
