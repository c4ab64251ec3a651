#include "avsl/viz/video_writer.h"

#include <algorithm>
#include <filesystem>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "data/ffmpeg_util.h"

#ifdef AVSL_HAVE_FFMPEG
extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}
#endif

namespace avsl::viz {

#ifndef AVSL_HAVE_FFMPEG

struct VideoWriter::Impl {};
VideoWriter::VideoWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoWriter::~VideoWriter() = default;
absl::StatusOr<std::unique_ptr<VideoWriter>> VideoWriter::Open(const std::string& path, const VideoWriterOptions&) {
  return absl::FailedPreconditionError(
      absl::StrCat(path, ": this avsl was built without FFmpeg's libraries, so it writes no video (AVSL_WITH_FFMPEG)"));
}
absl::Status VideoWriter::WriteFrame(const data::RgbImage&) { return absl::FailedPreconditionError("no FFmpeg"); }
absl::Status VideoWriter::WriteAudio(const float*, size_t) { return absl::FailedPreconditionError("no FFmpeg"); }
absl::Status VideoWriter::Finish() { return absl::FailedPreconditionError("no FFmpeg"); }
std::string VideoWriter::video_codec() const { return ""; }

#else  // AVSL_HAVE_FFMPEG

namespace {
using data::ffmpeg::CodecContextFree;
using data::ffmpeg::FrameFree;
using data::ffmpeg::PacketFree;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecContextFree>;
}  // namespace

struct VideoWriter::Impl {
  std::string path, partial;
  VideoWriterOptions options;
  AVFormatContext* oc = nullptr;
  CodecPtr video, audio;
  AVStream* video_stream = nullptr;
  AVStream* audio_stream = nullptr;
  std::unique_ptr<AVFrame, FrameFree> picture{av_frame_alloc()};
  std::unique_ptr<AVFrame, FrameFree> sound{av_frame_alloc()};
  std::unique_ptr<AVPacket, PacketFree> packet{av_packet_alloc()};
  SwsContext* sws = nullptr;
  int64_t pictures = 0;
  int64_t audio_samples = 0;                // sent to the encoder
  std::vector<std::vector<float>> pending;  // per channel, not yet a full encoder frame
  bool finished = false;

  ~Impl() {
    sws_freeContext(sws);
    if (oc != nullptr) {
      if (oc->pb != nullptr) avio_closep(&oc->pb);
      avformat_free_context(oc);
    }
    if (!finished && !partial.empty()) {
      std::error_code ec;
      std::filesystem::remove(partial, ec);
    }
  }

  absl::Status Fail(const std::string& what, int code) const { return data::ffmpeg::Error(path, what, code); }

  // Sends `frame` (nullptr flushes) and writes every packet that comes out.
  absl::Status Encode(AVCodecContext& ctx, AVStream& stream, const AVFrame* frame) {
    if (int r = avcodec_send_frame(&ctx, frame); r < 0)
      return Fail(absl::StrCat("encoding (", ctx.codec->name, ")"), r);
    for (;;) {
      const int r = avcodec_receive_packet(&ctx, packet.get());
      if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return absl::OkStatus();
      if (r < 0) return Fail(absl::StrCat("encoding (", ctx.codec->name, ")"), r);
      av_packet_rescale_ts(packet.get(), ctx.time_base, stream.time_base);
      packet->stream_index = stream.index;
      if (int w = av_interleaved_write_frame(oc, packet.get()); w < 0) return Fail("writing a packet", w);
    }
  }

  absl::Status EncodePendingAudio(bool last) {
    const size_t frame_size = audio->frame_size > 0 ? static_cast<size_t>(audio->frame_size) : 1024;
    size_t used = 0;  // consumed from the front of pending, erased once at the end (not per frame)
    absl::Status s = absl::OkStatus();
    while (s.ok() && !pending.empty()) {
      const size_t left = pending[0].size() - used;
      if (left == 0 || (left < frame_size && !last)) break;
      const int n = static_cast<int>(std::min(left, frame_size));
      av_frame_unref(sound.get());
      sound->format = audio->sample_fmt;
      sound->nb_samples = n;
      sound->sample_rate = audio->sample_rate;
      if (int r = av_channel_layout_copy(&sound->ch_layout, &audio->ch_layout); r < 0) return Fail("audio layout", r);
      if (int r = av_frame_get_buffer(sound.get(), 0); r < 0) return Fail("allocating an audio frame", r);
      for (size_t c = 0; c < pending.size(); ++c) {
        std::copy(pending[c].begin() + used, pending[c].begin() + used + n,
                  reinterpret_cast<float*>(sound->extended_data[c]));
      }
      used += n;
      sound->pts = audio_samples;
      audio_samples += n;
      s = Encode(*audio, *audio_stream, sound.get());
    }
    for (std::vector<float>& channel : pending) channel.erase(channel.begin(), channel.begin() + used);
    return s;
  }
};

VideoWriter::VideoWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoWriter::~VideoWriter() = default;

absl::StatusOr<std::unique_ptr<VideoWriter>> VideoWriter::Open(const std::string& path, const VideoWriterOptions& o) {
  if (o.width <= 0 || o.height <= 0 || o.width % 2 != 0 || o.height % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": a video picture must have an even positive size, got ", o.width, "x", o.height));
  }
  if (!(o.fps > 0) || o.fps > 1000) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": fps must be in (0, 1000], got ", o.fps));
  }
  if (o.audio_sample_rate > 0 && (o.audio_channels < 1 || o.audio_channels > 8)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": an audio track of 1 to 8 channels, got ", o.audio_channels));
  }
  data::ffmpeg::QuietLibraries();
  auto m = std::make_unique<Impl>();
  m->path = path;
  m->partial = path + ".partial";
  m->options = o;
  if (!m->picture || !m->sound || !m->packet) return absl::ResourceExhaustedError(path + ": cannot allocate frames");
  const AVOutputFormat* format = av_guess_format(nullptr, path.c_str(), nullptr);
  if (format == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": FFmpeg knows no container for this file name (use .mp4, .mkv, .mov)"));
  }
  if (int r = avformat_alloc_output_context2(&m->oc, format, nullptr, m->partial.c_str()); r < 0) {
    return m->Fail("creating the container", r);
  }
  // H.264 through libx264 where this FFmpeg has it (Debian's does), MPEG-4 Part 2 (built into libavcodec) else.
  const AVCodec* vcodec = avcodec_find_encoder_by_name("libx264");
  if (vcodec == nullptr) vcodec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
  if (vcodec == nullptr) return absl::FailedPreconditionError(path + ": this FFmpeg has neither libx264 nor mpeg4");
  m->video.reset(avcodec_alloc_context3(vcodec));
  const AVRational rate = av_d2q(o.fps, 65535);
  AVCodecContext& v = *m->video;
  v.width = o.width;
  v.height = o.height;
  v.pix_fmt = AV_PIX_FMT_YUV420P;
  v.time_base = av_inv_q(rate);
  v.framerate = rate;
  v.gop_size = 12;
  if (format->flags & AVFMT_GLOBALHEADER) v.flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if (vcodec->id == AV_CODEC_ID_H264) {
    av_opt_set(v.priv_data, "preset", "veryfast", 0);
    av_opt_set(v.priv_data, "crf", std::to_string(o.crf).c_str(), 0);
  } else {
    v.flags |= AV_CODEC_FLAG_QSCALE;
    v.global_quality = FF_QP2LAMBDA * std::max(2, o.crf / 6);
  }
  if (int r = avcodec_open2(&v, vcodec, nullptr); r < 0) return m->Fail(absl::StrCat("opening ", vcodec->name), r);
  m->video_stream = avformat_new_stream(m->oc, nullptr);
  if (m->video_stream == nullptr) return absl::ResourceExhaustedError(path + ": cannot add a stream");
  m->video_stream->time_base = v.time_base;
  m->video_stream->avg_frame_rate = rate;
  if (int r = avcodec_parameters_from_context(m->video_stream->codecpar, &v); r < 0) return m->Fail("video", r);

  if (o.audio_sample_rate > 0) {
    const AVCodec* acodec = avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (acodec == nullptr) return absl::FailedPreconditionError(path + ": this FFmpeg has no AAC encoder");
    m->audio.reset(avcodec_alloc_context3(acodec));
    AVCodecContext& a = *m->audio;
    a.sample_fmt = AV_SAMPLE_FMT_FLTP;
    a.sample_rate = o.audio_sample_rate;
    av_channel_layout_default(&a.ch_layout, o.audio_channels);
    a.bit_rate = 64000LL * o.audio_channels;
    a.time_base = AVRational{1, o.audio_sample_rate};
    if (format->flags & AVFMT_GLOBALHEADER) a.flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (int r = avcodec_open2(&a, acodec, nullptr); r < 0) {
      return m->Fail(absl::StrCat("opening the AAC encoder at ", o.audio_sample_rate, " Hz"), r);
    }
    m->audio_stream = avformat_new_stream(m->oc, nullptr);
    if (m->audio_stream == nullptr) return absl::ResourceExhaustedError(path + ": cannot add a stream");
    m->audio_stream->time_base = a.time_base;
    if (int r = avcodec_parameters_from_context(m->audio_stream->codecpar, &a); r < 0) return m->Fail("audio", r);
    m->pending.assign(static_cast<size_t>(o.audio_channels), {});
  }
  if (int r = avio_open(&m->oc->pb, m->partial.c_str(), AVIO_FLAG_WRITE); r < 0) {
    return m->Fail(absl::StrCat("opening ", m->partial, " for writing"), r);
  }
  if (int r = avformat_write_header(m->oc, nullptr); r < 0) return m->Fail("writing the container header", r);
  m->picture->format = AV_PIX_FMT_YUV420P;
  m->picture->width = o.width;
  m->picture->height = o.height;
  if (int r = av_frame_get_buffer(m->picture.get(), 0); r < 0) return m->Fail("allocating a picture", r);
  m->sws = sws_getContext(o.width, o.height, AV_PIX_FMT_RGB24, o.width, o.height, AV_PIX_FMT_YUV420P, SWS_BILINEAR,
                          nullptr, nullptr, nullptr);
  if (m->sws == nullptr) return absl::InternalError(path + ": no RGB to YUV 4:2:0 conversion");
  return std::unique_ptr<VideoWriter>(new VideoWriter(std::move(m)));
}

absl::Status VideoWriter::WriteFrame(const data::RgbImage& image) {
  Impl& m = *impl_;
  if (m.finished) return absl::FailedPreconditionError(m.path + ": already finished");
  if (image.width != m.options.width || image.height != m.options.height ||
      image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3) {
    return absl::InvalidArgumentError(absl::StrCat(m.path, ": picture ", m.pictures, " is ", image.width, "x",
                                                   image.height, ", expected ", m.options.width, "x",
                                                   m.options.height));
  }
  // The encoder may still hold the previous picture's buffer.
  if (int r = av_frame_make_writable(m.picture.get()); r < 0) return m.Fail("a picture buffer", r);
  const uint8_t* src[4] = {image.pixels.data(), nullptr, nullptr, nullptr};
  const int stride[4] = {3 * image.width, 0, 0, 0};
  sws_scale(m.sws, src, stride, 0, image.height, m.picture->data, m.picture->linesize);
  m.picture->pts = m.pictures++;
  return m.Encode(*m.video, *m.video_stream, m.picture.get());
}

absl::Status VideoWriter::WriteAudio(const float* interleaved, size_t frames) {
  Impl& m = *impl_;
  if (m.finished) return absl::FailedPreconditionError(m.path + ": already finished");
  if (!m.audio) return absl::FailedPreconditionError(m.path + ": opened without an audio track");
  const size_t channels = m.pending.size();
  for (size_t i = 0; i < frames; ++i) {
    for (size_t c = 0; c < channels; ++c) m.pending[c].push_back(interleaved[i * channels + c]);
  }
  return m.EncodePendingAudio(/*last=*/false);
}

absl::Status VideoWriter::Finish() {
  Impl& m = *impl_;
  if (m.finished) return absl::OkStatus();
  if (m.pictures == 0) return absl::FailedPreconditionError(m.path + ": no picture was written");
  if (absl::Status s = m.Encode(*m.video, *m.video_stream, nullptr); !s.ok()) return s;
  if (m.audio) {
    if (absl::Status s = m.EncodePendingAudio(/*last=*/true); !s.ok()) return s;
    if (absl::Status s = m.Encode(*m.audio, *m.audio_stream, nullptr); !s.ok()) return s;
  }
  if (int r = av_write_trailer(m.oc); r < 0) return m.Fail("writing the trailer", r);
  if (int r = avio_closep(&m.oc->pb); r < 0) return m.Fail("closing the file", r);
  std::error_code ec;
  std::filesystem::rename(m.partial, m.path, ec);
  if (ec) return absl::UnavailableError(absl::StrCat(m.path, ": cannot rename ", m.partial, ": ", ec.message()));
  m.finished = true;
  return absl::OkStatus();
}

std::string VideoWriter::video_codec() const { return impl_->video->codec->name; }

#endif  // AVSL_HAVE_FFMPEG

}  // namespace avsl::viz
