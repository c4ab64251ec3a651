#include "avsl/data/video_reader.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "avsl/data/audio_clip.h"
#include "ffmpeg_util.h"

#ifdef AVSL_HAVE_FFMPEG
extern "C" {
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}
#endif

namespace avsl::data {

std::vector<FrameSample> SampleFrames(const std::vector<double>& frame_times, double fps) {
  std::vector<FrameSample> out;
  const size_t n = frame_times.size();
  if (n == 0) return out;
  if (!(fps > 0)) {
    for (size_t i = 0; i < n; ++i) out.push_back({frame_times[i], static_cast<int64_t>(i)});
    return out;
  }
  const double first = frame_times.front();
  // The last frame stays on screen for one source period (the mean one; 1/fps for a single picture).
  const double period = n > 1 ? (frame_times.back() - first) / static_cast<double>(n - 1) : 1.0 / fps;
  const double end = frame_times.back() + period;
  for (int64_t k = 0;; ++k) {
    const double t = first + static_cast<double>(k) / fps;
    if (t >= end - 1e-9) break;
    const auto it = std::upper_bound(frame_times.begin(), frame_times.end(), t + 1e-6);
    out.push_back({t, static_cast<int64_t>(it - frame_times.begin()) - 1});
  }
  return out;
}

std::vector<double> AudioWindowAt(const AudioTrack& track, double time_seconds, double window_seconds) {
  const std::vector<double>& s = track.mono.samples;
  const int rate = track.mono.sample_rate;
  const int64_t length = ClipLength(rate, window_seconds);
  const int64_t n = static_cast<int64_t>(s.size());
  if (n <= length) return s;
  const double centre = (time_seconds - track.start_seconds) * rate;
  const int64_t start = std::clamp<int64_t>(std::llround(centre - static_cast<double>(length) / 2.0), 0, n - length);
  return std::vector<double>(s.begin() + start, s.begin() + start + length);
}

#ifndef AVSL_HAVE_FFMPEG

namespace {
absl::Status NoVideo(const std::string& path) {
  return absl::FailedPreconditionError(absl::StrCat(
      path, ": this avsl was built without FFmpeg's libraries, so it reads no video (Debian: libavformat-dev "
            "libavcodec-dev libavutil-dev libswscale-dev libswresample-dev, then reconfigure; AVSL_WITH_FFMPEG)"));
}
}  // namespace

bool VideoSupported() { return false; }
struct VideoReader::Impl {
  VideoInfo info;
};
VideoReader::VideoReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoReader::~VideoReader() = default;
absl::StatusOr<std::unique_ptr<VideoReader>> VideoReader::Open(const std::string& path) { return NoVideo(path); }
const VideoInfo& VideoReader::info() const { return impl_->info; }
absl::StatusOr<std::optional<VideoFrame>> VideoReader::NextFrame() { return NoVideo(impl_->info.path); }
absl::StatusOr<std::vector<double>> VideoReader::FrameTimes() const { return NoVideo(impl_->info.path); }
absl::StatusOr<AudioTrack> VideoReader::ReadAudio() const { return NoVideo(impl_->info.path); }

#else  // AVSL_HAVE_FFMPEG

namespace ffmpeg {

std::string ErrorText(int code) {
  char buffer[AV_ERROR_MAX_STRING_SIZE] = {0};
  if (av_strerror(code, buffer, sizeof(buffer)) < 0) return absl::StrCat("FFmpeg error ", code);
  return buffer;
}

void QuietLibraries() {
  // FFmpeg prints its own diagnostics to stderr (x264 its statistics); the Status returned names the file and the
  // failure, so only the libraries' errors stay visible.
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_level(AV_LOG_ERROR); });
}

absl::Status Error(const std::string& path, const std::string& what, int code) {
  const std::string message = absl::StrCat(path, ": ", what, ": ", ErrorText(code));
  if (code == AVERROR(ENOENT)) return absl::NotFoundError(message);
  if (code == AVERROR_EOF) return absl::DataLossError(message);
  return absl::InvalidArgumentError(message);
}

}  // namespace ffmpeg

namespace {

using ffmpeg::CodecContextFree;
using ffmpeg::FormatInputCloser;
using ffmpeg::FrameFree;
using ffmpeg::PacketFree;
using FormatPtr = std::unique_ptr<AVFormatContext, FormatInputCloser>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecContextFree>;

absl::StatusOr<FormatPtr> OpenInput(const std::string& path) {
  ffmpeg::QuietLibraries();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return absl::NotFoundError(path + ": file not found");
  AVFormatContext* raw = nullptr;
  if (int r = avformat_open_input(&raw, path.c_str(), nullptr, nullptr); r < 0) {
    return ffmpeg::Error(path, "not a media file FFmpeg can demux (truncated or another format)", r);
  }
  FormatPtr fmt(raw);
  if (int r = avformat_find_stream_info(fmt.get(), nullptr); r < 0) {
    return ffmpeg::Error(path, "reading the stream headers", r);
  }
  return fmt;
}

double Origin(const AVFormatContext& fmt) {
  return fmt.start_time == AV_NOPTS_VALUE ? 0.0 : static_cast<double>(fmt.start_time) / AV_TIME_BASE;
}

struct OpenedDecoder {
  int stream = -1;
  CodecPtr codec;
};

absl::StatusOr<OpenedDecoder> OpenDecoder(AVFormatContext& fmt, AVMediaType type, const std::string& path) {
  const char* kind = type == AVMEDIA_TYPE_VIDEO ? "video" : "audio";
  const AVCodec* codec = nullptr;
  const int stream = av_find_best_stream(&fmt, type, -1, -1, &codec, 0);
  if (stream == AVERROR_STREAM_NOT_FOUND) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": no ", kind, " stream"));
  }
  if (stream == AVERROR_DECODER_NOT_FOUND || (stream >= 0 && codec == nullptr)) {
    const int best = av_find_best_stream(&fmt, type, -1, -1, nullptr, 0);
    const char* name = best >= 0 ? avcodec_get_name(fmt.streams[best]->codecpar->codec_id) : "?";
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the ", kind, " codec '", name, "' has no decoder in this FFmpeg build"));
  }
  if (stream < 0) return ffmpeg::Error(path, absl::StrCat("finding the ", kind, " stream"), stream);
  CodecPtr ctx(avcodec_alloc_context3(codec));
  if (!ctx) return absl::ResourceExhaustedError(path + ": cannot allocate a decoder");
  AVStream* st = fmt.streams[stream];
  if (int r = avcodec_parameters_to_context(ctx.get(), st->codecpar); r < 0) {
    return ffmpeg::Error(path, absl::StrCat("the ", kind, " stream's parameters"), r);
  }
  ctx->pkt_timebase = st->time_base;
  if (int r = avcodec_open2(ctx.get(), codec, nullptr); r < 0) {
    return ffmpeg::Error(path, absl::StrCat("opening the ", codec->name, " decoder"), r);
  }
  return OpenedDecoder{stream, std::move(ctx)};
}

// Pulls decoded frames of `stream`: the caller's `on_frame` sees each; packets of other streams are skipped.
// Returns when `on_frame` returns false or the stream ends.
template <typename OnFrame>
absl::Status DecodeStream(AVFormatContext& fmt, AVCodecContext& codec, int stream, const std::string& path,
                          const char* kind, bool& flushed, AVPacket& packet, AVFrame& frame, OnFrame on_frame) {
  for (;;) {
    int r = avcodec_receive_frame(&codec, &frame);
    if (r == 0) {
      const bool more = on_frame(frame);
      av_frame_unref(&frame);
      if (!more) return absl::OkStatus();
      continue;
    }
    if (r == AVERROR_EOF) return absl::OkStatus();
    if (r != AVERROR(EAGAIN)) return ffmpeg::Error(path, absl::StrCat("decoding the ", kind, " stream"), r);
    if (flushed) return absl::OkStatus();
    r = av_read_frame(&fmt, &packet);
    if (r == AVERROR_EOF) {
      avcodec_send_packet(&codec, nullptr);
      flushed = true;
      continue;
    }
    if (r < 0) return ffmpeg::Error(path, "reading a packet (a truncated or corrupt file)", r);
    if (packet.stream_index != stream) {
      av_packet_unref(&packet);
      continue;
    }
    const double at = packet.pts == AV_NOPTS_VALUE
                          ? -1.0
                          : static_cast<double>(packet.pts) * av_q2d(fmt.streams[stream]->time_base);
    r = avcodec_send_packet(&codec, &packet);
    av_packet_unref(&packet);
    if (r < 0 && r != AVERROR(EAGAIN)) {
      return absl::DataLossError(
          absl::StrFormat("%s: the %s packet at %.3f s does not decode: %s", path, kind, at, ffmpeg::ErrorText(r)));
    }
  }
}

// One sample of channel `c` at position `i` of a decoded audio frame, in its own type.
template <typename T>
T SampleAt(const AVFrame& f, bool planar, int channels, int c, int i) {
  if (planar) return reinterpret_cast<const T*>(f.extended_data[c])[i];
  return reinterpret_cast<const T*>(f.extended_data[0])[static_cast<size_t>(i) * channels + c];
}

// Full-scale float of any packed or planar sample format.
float AsFloat(const AVFrame& f, AVSampleFormat packed, bool planar, int channels, int c, int i) {
  switch (packed) {
    case AV_SAMPLE_FMT_U8: return (static_cast<float>(SampleAt<uint8_t>(f, planar, channels, c, i)) - 128.f) / 128.f;
    case AV_SAMPLE_FMT_S16: return static_cast<float>(SampleAt<int16_t>(f, planar, channels, c, i)) / 32768.f;
    case AV_SAMPLE_FMT_S32:
      return static_cast<float>(static_cast<double>(SampleAt<int32_t>(f, planar, channels, c, i)) / 2147483648.0);
    case AV_SAMPLE_FMT_S64:
      return static_cast<float>(static_cast<double>(SampleAt<int64_t>(f, planar, channels, c, i)) /
                                9223372036854775808.0);
    case AV_SAMPLE_FMT_FLT: return SampleAt<float>(f, planar, channels, c, i);
    case AV_SAMPLE_FMT_DBL: return static_cast<float>(SampleAt<double>(f, planar, channels, c, i));
    default: return 0.f;
  }
}

}  // namespace

bool VideoSupported() { return true; }

struct VideoReader::Impl {
  VideoInfo info;
  FormatPtr fmt;
  OpenedDecoder decoder;
  std::unique_ptr<AVPacket, PacketFree> packet{av_packet_alloc()};
  std::unique_ptr<AVFrame, FrameFree> frame{av_frame_alloc()};
  SwsContext* sws = nullptr;
  bool flushed = false;
  int64_t next_index = 0;
  double origin = 0;

  ~Impl() { sws_freeContext(sws); }
};

VideoReader::VideoReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoReader::~VideoReader() = default;

absl::StatusOr<std::unique_ptr<VideoReader>> VideoReader::Open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  if (!impl->packet || !impl->frame) return absl::ResourceExhaustedError(path + ": cannot allocate a frame");
  absl::StatusOr<FormatPtr> fmt = OpenInput(path);
  if (!fmt.ok()) return fmt.status();
  impl->fmt = *std::move(fmt);
  absl::StatusOr<OpenedDecoder> decoder = OpenDecoder(*impl->fmt, AVMEDIA_TYPE_VIDEO, path);
  if (!decoder.ok()) return decoder.status();
  impl->decoder = *std::move(decoder);
  impl->origin = Origin(*impl->fmt);
  VideoInfo& info = impl->info;
  info.path = path;
  const AVStream* st = impl->fmt->streams[impl->decoder.stream];
  info.width = st->codecpar->width;
  info.height = st->codecpar->height;
  if (info.width <= 0 || info.height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the video stream declares a ", info.width, "x", info.height, " picture"));
  }
  const AVRational rate = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
  info.frame_rate = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0.0;
  info.duration_seconds = impl->fmt->duration > 0 ? static_cast<double>(impl->fmt->duration) / AV_TIME_BASE : 0.0;
  info.video_codec = avcodec_get_name(st->codecpar->codec_id);
  const int audio = av_find_best_stream(impl->fmt.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (audio >= 0) {
    const AVCodecParameters* a = impl->fmt->streams[audio]->codecpar;
    info.has_audio = true;
    info.audio_sample_rate = a->sample_rate;
    info.audio_channels = a->ch_layout.nb_channels;
    info.audio_codec = avcodec_get_name(a->codec_id);
  }
  return std::unique_ptr<VideoReader>(new VideoReader(std::move(impl)));
}

const VideoInfo& VideoReader::info() const { return impl_->info; }

absl::StatusOr<std::optional<VideoFrame>> VideoReader::NextFrame() {
  Impl& m = *impl_;
  std::optional<VideoFrame> out;
  absl::Status converted = absl::OkStatus();
  const double time_base = av_q2d(m.fmt->streams[m.decoder.stream]->time_base);
  absl::Status s = DecodeStream(
      *m.fmt, *m.decoder.codec, m.decoder.stream, m.info.path, "video", m.flushed, *m.packet, *m.frame,
      [&](const AVFrame& f) {
        VideoFrame v;
        v.index = m.next_index++;
        const int64_t ts = f.best_effort_timestamp;
        v.time_seconds = ts == AV_NOPTS_VALUE
                             ? (m.info.frame_rate > 0 ? static_cast<double>(v.index) / m.info.frame_rate : 0.0)
                             : static_cast<double>(ts) * time_base - m.origin;
        m.sws = sws_getCachedContext(m.sws, f.width, f.height, static_cast<AVPixelFormat>(f.format), f.width, f.height,
                                     AV_PIX_FMT_RGB24, SWS_BILINEAR, nullptr, nullptr, nullptr);
        if (m.sws == nullptr) {
          converted = absl::InvalidArgumentError(
              absl::StrCat(m.info.path, ": cannot convert the pixel format ",
                           av_get_pix_fmt_name(static_cast<AVPixelFormat>(f.format))
                               ? av_get_pix_fmt_name(static_cast<AVPixelFormat>(f.format))
                               : "?",
                           " to RGB"));
          return false;
        }
        v.image.width = f.width;
        v.image.height = f.height;
        v.image.pixels.resize(static_cast<size_t>(f.width) * f.height * 3);
        uint8_t* dst[4] = {v.image.pixels.data(), nullptr, nullptr, nullptr};
        int stride[4] = {3 * f.width, 0, 0, 0};
        sws_scale(m.sws, f.data, f.linesize, 0, f.height, dst, stride);
        out = std::move(v);
        return false;
      });
  if (!s.ok()) return s;
  if (!converted.ok()) return converted;
  return out;
}

absl::StatusOr<std::vector<double>> VideoReader::FrameTimes() const {
  const std::string& path = impl_->info.path;
  absl::StatusOr<FormatPtr> fmt = OpenInput(path);
  if (!fmt.ok()) return fmt.status();
  const int stream = impl_->decoder.stream;
  if (stream >= static_cast<int>((*fmt)->nb_streams)) return absl::DataLossError(path + ": the file changed");
  const double time_base = av_q2d((*fmt)->streams[stream]->time_base);
  const double origin = Origin(**fmt);
  std::unique_ptr<AVPacket, PacketFree> packet(av_packet_alloc());
  std::vector<double> times;
  for (;;) {
    const int r = av_read_frame(fmt->get(), packet.get());
    if (r == AVERROR_EOF) break;
    if (r < 0) return ffmpeg::Error(path, "reading a packet (a truncated or corrupt file)", r);
    if (packet->stream_index == stream && (packet->flags & AV_PKT_FLAG_DISCARD) == 0) {
      const int64_t ts = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
      times.push_back(ts == AV_NOPTS_VALUE ? static_cast<double>(times.size()) / std::max(1e-9, impl_->info.frame_rate)
                                           : static_cast<double>(ts) * time_base - origin);
    }
    av_packet_unref(packet.get());
  }
  std::sort(times.begin(), times.end());
  return times;
}

absl::StatusOr<AudioTrack> VideoReader::ReadAudio() const {
  const std::string& path = impl_->info.path;
  absl::StatusOr<FormatPtr> fmt = OpenInput(path);
  if (!fmt.ok()) return fmt.status();
  absl::StatusOr<OpenedDecoder> decoder = OpenDecoder(**fmt, AVMEDIA_TYPE_AUDIO, path);
  if (!decoder.ok()) {
    if (absl::IsFailedPrecondition(decoder.status())) {
      return absl::FailedPreconditionError(path + ": no audio track; the sound is what gets localized");
    }
    return decoder.status();
  }
  const double time_base = av_q2d((*fmt)->streams[decoder->stream]->time_base);
  const double origin = Origin(**fmt);
  AudioTrack track;
  std::vector<int16_t> mono;
  bool first = true, flushed = false;
  absl::Status layout = absl::OkStatus();
  std::unique_ptr<AVPacket, PacketFree> packet(av_packet_alloc());
  std::unique_ptr<AVFrame, FrameFree> frame(av_frame_alloc());
  std::vector<float> as_float;
  std::vector<int16_t> as_int16;
  std::vector<double> as_double;
  absl::Status s = DecodeStream(
      **fmt, *decoder->codec, decoder->stream, path, "audio", flushed, *packet, *frame, [&](const AVFrame& f) {
        const int channels = f.ch_layout.nb_channels;
        if (first) {
          first = false;
          track.mono.sample_rate = f.sample_rate;
          track.mono.source_channels = track.channels = channels;
          track.start_seconds = f.best_effort_timestamp == AV_NOPTS_VALUE
                                    ? 0.0
                                    : static_cast<double>(f.best_effort_timestamp) * time_base - origin;
        } else if (f.sample_rate != track.mono.sample_rate || channels != track.channels) {
          layout = absl::InvalidArgumentError(absl::StrCat(
              path, ": the audio track changes from ", track.mono.sample_rate, " Hz, ", track.channels, " channels to ",
              f.sample_rate, " Hz, ", channels, " channels; avsl reads tracks of one rate and layout"));
          return false;
        }
        if (channels <= 0) {
          layout = absl::InvalidArgumentError(path + ": an audio frame without channels");
          return false;
        }
        const auto format = static_cast<AVSampleFormat>(f.format);
        const bool planar = av_sample_fmt_is_planar(format) != 0;
        const AVSampleFormat packed = av_get_packed_sample_fmt(format);
        // One sample frame at a time, in buffers sized once per decoded frame.
        as_float.resize(static_cast<size_t>(channels));
        as_int16.resize(static_cast<size_t>(channels));
        as_double.resize(static_cast<size_t>(channels));
        for (int i = 0; i < f.nb_samples; ++i) {
          for (int c = 0; c < channels; ++c) {
            as_float[c] = AsFloat(f, packed, planar, channels, c, i);
            track.interleaved.push_back(as_float[c]);
          }
          // The reference's mono int16 (libswresample's rematrix from the stream's own sample format).
          if (packed == AV_SAMPLE_FMT_S16) {
            for (int c = 0; c < channels; ++c) as_int16[c] = SampleAt<int16_t>(f, planar, channels, c, i);
            mono.push_back(DownmixInt16(as_int16.data(), channels));
          } else if (packed == AV_SAMPLE_FMT_DBL) {
            for (int c = 0; c < channels; ++c) as_double[c] = SampleAt<double>(f, planar, channels, c, i);
            mono.push_back(DownmixDouble(as_double.data(), channels));
          } else {
            mono.push_back(DownmixFloat(as_float.data(), channels));
          }
        }
        return true;
      });
  if (!s.ok()) return s;
  if (!layout.ok()) return layout;
  if (mono.empty()) return absl::DataLossError(path + ": the audio track decodes to no samples");
  track.mono.samples.resize(mono.size());
  for (size_t i = 0; i < mono.size(); ++i) {
    track.mono.samples[i] = std::clamp(static_cast<double>(mono[i]) / 32767.0, -1.0, 1.0);
  }
  return track;
}

#endif  // AVSL_HAVE_FFMPEG

}  // namespace avsl::data
