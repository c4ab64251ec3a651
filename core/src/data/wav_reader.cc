#include "avsl/data/wav_reader.h"

#include <sndfile.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "env_limit.h"

namespace avsl::data {
namespace {

struct SndfileCloser {
  void operator()(SNDFILE* f) const {
    if (f != nullptr) sf_close(f);
  }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

// Explicit byte order: a WAV file is little-endian whatever the host is.
void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
}

int16_t ClipInt16(long v) { return static_cast<int16_t>(std::clamp<long>(v, -32768, 32767)); }

// libsndfile silently shortens a WAV whose data chunk is cut off and only records it in its log as
// "data : <header size> (should be <actual>)". The reference (PyAV) would also decode the shorter stream
// but would place its 3 s window from the header duration, so a truncated file is treated as broken.
bool DataChunkTruncated(SNDFILE* f, std::string* detail) {
  char log[8192];
  sf_command(f, SFC_GET_LOG_INFO, log, sizeof(log));
  const char* p = std::strstr(log, "\ndata : ");
  if (p == nullptr) return false;
  unsigned long long declared = 0, actual = 0;
  if (std::sscanf(p, "\ndata : %llu (should be %llu)", &declared, &actual) != 2) return false;
  // 0 and 0xFFFFFFFF mark "size unknown" in streamed WAVs; they are not truncation.
  if (declared == 0 || declared == 0xFFFFFFFFull || declared <= actual) return false;
  *detail = absl::StrCat("data chunk declares ", declared, " bytes but only ", actual, " are present");
  return true;
}

// swresample's float path, computed in the input precision T (float or double): the mean, then
// clip(lrint(v · 32768)) (std::lrint picks lrintf for float).
template <typename T>
int16_t DownmixReal(const T* frame, int channels) {
  T v;
  if (channels == 1) {
    v = frame[0];
  } else if (channels == 2) {
    v = T(0.5) * frame[0] + T(0.5) * frame[1];
  } else {
    T s = 0;
    for (int c = 0; c < channels; ++c) s += frame[c];
    v = s / static_cast<T>(channels);
  }
  return ClipInt16(std::lrint(v * T(32768)));
}

int BytesPerSample(int subtype) {
  switch (subtype) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8: return 1;
    case SF_FORMAT_PCM_16: return 2;
    case SF_FORMAT_PCM_24: return 3;
    case SF_FORMAT_PCM_32:
    case SF_FORMAT_FLOAT: return 4;
    case SF_FORMAT_DOUBLE: return 8;
    default: return 2;  // Compressed codecs (FLAC, Vorbis, ...): libsndfile yields them at 16-bit precision here.
  }
}

}  // namespace

int16_t DownmixInt16(const int16_t* frame, int channels) {
  if (channels == 1) return frame[0];
  if (channels == 2) {
    // swresample's S16P sum2: coefficients 0.5 -> 16384 in Q15, result (c·L + c·R + 16384) >> 15.
    const long acc = 16384L * frame[0] + 16384L * frame[1] + 16384L;
    return ClipInt16(acc >> 15);  // Arithmetic shift: floor, as in C on two's complement.
  }
  long sum = 0;
  for (int c = 0; c < channels; ++c) sum += frame[c];
  return ClipInt16(std::lround(static_cast<double>(sum) / channels));
}

int16_t DownmixFloat(const float* frame, int channels) { return DownmixReal(frame, channels); }

int16_t DownmixDouble(const double* frame, int channels) { return DownmixReal(frame, channels); }

absl::StatusOr<MonoAudio> ReadMonoAudio(const std::string& path) {
  return ReadMonoAudioRange(path, [](int64_t frames, int) { return std::pair<int64_t, int64_t>{0, frames}; });
}

absl::StatusOr<MonoAudio> ReadMonoAudioRange(const std::string& path,
                                             const std::function<std::pair<int64_t, int64_t>(int64_t, int)>& choose) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("audio ", path, ": cannot open: ", std::strerror(errno)));
  }
  SF_INFO info;
  std::memset(&info, 0, sizeof(info));
  SndfilePtr f(sf_open(path.c_str(), SFM_READ, &info));
  if (f == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("audio ", path, ": not a readable audio file (libsndfile: ", sf_strerror(nullptr), ")"));
  }
  std::string detail;
  if (DataChunkTruncated(f.get(), &detail)) {
    return absl::DataLossError(absl::StrCat("audio ", path, ": truncated: ", detail));
  }
  if (info.channels <= 0 || info.samplerate <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("audio ", path, ": invalid header (channels=", info.channels, ", rate=", info.samplerate, ")"));
  }
  // The 3-second window is sample_rate x 3 samples whatever the file holds (a short clip is tiled): a corrupt
  // header's rate would size it (2^31 Hz would ask for 51 GB).
  const uint64_t max_rate = LimitFromEnvironment("AVSL_MAX_SAMPLE_RATE", kMaxSampleRate);
  if (static_cast<uint64_t>(info.samplerate) > max_rate) {
    return absl::InvalidArgumentError(absl::StrCat("audio ", path, ": sample rate ", info.samplerate,
                                                   " Hz is above the ", max_rate,
                                                   " Hz avsl reads (a corrupt header? AVSL_MAX_SAMPLE_RATE=N raises "
                                                   "the limit)"));
  }
  if (info.frames <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("audio ", path, ": contains 0 audio frames"));
  }
  const int ch = info.channels;
  const auto [first_wanted, count_wanted] = choose(static_cast<int64_t>(info.frames), info.samplerate);
  const sf_count_t first = std::clamp<sf_count_t>(first_wanted, 0, info.frames);
  const sf_count_t frames = std::clamp<sf_count_t>(count_wanted, 0, info.frames - first);
  if (frames == 0) {
    return absl::InvalidArgumentError(absl::StrCat("audio ", path, ": no frames in [", first_wanted, ", ",
                                                   first_wanted + count_wanted, ") of ", info.frames));
  }
  if (first > 0 && sf_seek(f.get(), first, SEEK_SET) != first) {
    return absl::DataLossError(absl::StrCat("audio ", path, ": cannot seek to frame ", first, " of ", info.frames));
  }
  const int subtype = info.format & SF_FORMAT_SUBMASK;
  const int bytes = BytesPerSample(subtype);
  MonoAudio out;
  out.sample_rate = info.samplerate;
  out.source_channels = ch;
  out.samples.resize(static_cast<size_t>(frames));
  std::vector<int16_t> mono(static_cast<size_t>(frames));
  sf_count_t got = 0;
  const size_t total = static_cast<size_t>(frames) * ch;
  if (bytes <= 2) {
    // libswresample keeps <=16-bit input in S16P; libsndfile maps 8-bit to 16 bits by << 8 as FFmpeg does.
    std::vector<int16_t> buf(total);
    got = sf_readf_short(f.get(), buf.data(), frames);
    for (sf_count_t i = 0; i < got; ++i) mono[i] = DownmixInt16(&buf[static_cast<size_t>(i) * ch], ch);
  } else if (bytes == 8) {
    std::vector<double> buf(total);
    sf_command(f.get(), SFC_SET_NORM_DOUBLE, nullptr, SF_TRUE);
    got = sf_readf_double(f.get(), buf.data(), frames);
    for (sf_count_t i = 0; i < got; ++i) mono[i] = DownmixDouble(&buf[static_cast<size_t>(i) * ch], ch);
  } else if (ch == 1 && subtype != SF_FORMAT_FLOAT) {
    // Mono 24/32-bit int needs no rematrix, so swresample converts directly s32 -> s16 with ">> 16".
    std::vector<int> buf(total);
    got = sf_readf_int(f.get(), buf.data(), frames);
    for (sf_count_t i = 0; i < got; ++i) mono[i] = static_cast<int16_t>(buf[i] >> 16);
  } else {
    // Float input, or multichannel 24/32-bit int: swresample works in FLTP (int: x · 2^-31).
    std::vector<float> buf(total);
    sf_command(f.get(), SFC_SET_NORM_FLOAT, nullptr, SF_TRUE);
    got = sf_readf_float(f.get(), buf.data(), frames);
    for (sf_count_t i = 0; i < got; ++i) mono[i] = DownmixFloat(&buf[static_cast<size_t>(i) * ch], ch);
  }
  if (got != frames) {
    return absl::DataLossError(absl::StrCat(
        "audio ", path, ": truncated or corrupt: header declares ", info.frames, " frames, decoded ", first + got,
        first > 0 ? absl::StrCat(" (reading frames ", first, " to ", first + frames, ")") : ""));
  }
  for (size_t i = 0; i < mono.size(); ++i) {
    out.samples[i] = std::clamp(static_cast<double>(mono[i]) / 32767.0, -1.0, 1.0);
  }
  return out;
}

absl::StatusOr<std::string> EncodeWavPcm16(const std::vector<int16_t>& interleaved, int channels, int sample_rate) {
  if (channels <= 0 || sample_rate <= 0 || interleaved.size() % static_cast<size_t>(channels) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid channels=", channels, " rate=", sample_rate, " or sample count ", interleaved.size()));
  }
  const uint64_t data_bytes = uint64_t{interleaved.size()} * 2;
  const uint64_t byte_rate = uint64_t{static_cast<uint32_t>(sample_rate)} * static_cast<uint32_t>(channels) * 2;
  if (36 + data_bytes > 0xFFFFFFFFull || byte_rate > 0xFFFFFFFFull || channels > 0x7FFF) {
    return absl::InvalidArgumentError(absl::StrCat("channels=", channels, " rate=", sample_rate, " and ",
                                                   interleaved.size(), " samples do not fit a RIFF WAV"));
  }
  std::string out;
  out.reserve(44 + data_bytes);
  out.append("RIFF");
  PutU32(out, static_cast<uint32_t>(36 + data_bytes));
  out.append("WAVE");
  out.append("fmt ");
  PutU32(out, 16);  // PCM fmt chunk size
  PutU16(out, 1);   // WAVE_FORMAT_PCM
  PutU16(out, static_cast<uint16_t>(channels));
  PutU32(out, static_cast<uint32_t>(sample_rate));
  PutU32(out, static_cast<uint32_t>(byte_rate));
  PutU16(out, static_cast<uint16_t>(channels * 2));  // block align
  PutU16(out, 16);                                   // bits per sample
  out.append("data");
  PutU32(out, static_cast<uint32_t>(data_bytes));
  for (int16_t v : interleaved) PutU16(out, static_cast<uint16_t>(v));
  return out;
}

absl::Status WriteWavPcm16Raw(const std::string& path, const std::vector<int16_t>& interleaved, int channels,
                              int sample_rate) {
  absl::StatusOr<std::string> bytes = EncodeWavPcm16(interleaved, channels, sample_rate);
  if (!bytes.ok()) return absl::InvalidArgumentError(absl::StrCat("wav ", path, ": ", bytes.status().message()));
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return absl::InternalError(absl::StrCat("wav ", path, ": cannot create: ", std::strerror(errno)));
  f.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
  f.close();
  if (!f) return absl::InternalError(absl::StrCat("wav ", path, ": write failed (", bytes->size(), " bytes)"));
  return absl::OkStatus();
}

absl::Status WriteWavPcm16(const std::string& path, const std::vector<float>& mono, int sample_rate) {
  std::vector<int16_t> q(mono.size());
  for (size_t i = 0; i < mono.size(); ++i) {
    if (!std::isfinite(mono[i])) {
      return absl::InvalidArgumentError(absl::StrCat("wav ", path, ": sample ", i, " is not finite"));
    }
    const double v = std::nearbyint(static_cast<double>(mono[i]) * 32767.0);
    q[i] = static_cast<int16_t>(std::clamp(v, -32767.0, 32767.0));
  }
  return WriteWavPcm16Raw(path, q, 1, sample_rate);
}

}  // namespace avsl::data
