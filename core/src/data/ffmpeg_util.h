// Internal helpers shared by the FFmpeg-backed reader (data/video_reader.cc) and writer (viz/video_writer.cc).
#pragma once

#ifdef AVSL_HAVE_FFMPEG

#include <string>

#include "absl/status/status.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
}

namespace avsl::data::ffmpeg {

/// av_strerror's text for an FFmpeg error code.
std::string ErrorText(int code);

/// Lowers FFmpeg's own logging to errors (once per process).
void QuietLibraries();

/// `code` as a Status whose message is "<path>: <what>: <FFmpeg's text>"; EOF/truncation maps to DataLoss, a missing
/// file to NotFound, the rest to InvalidArgument.
absl::Status Error(const std::string& path, const std::string& what, int code);

/// Frees what their allocators give (for std::unique_ptr).
struct FormatInputCloser {
  void operator()(AVFormatContext* p) const { avformat_close_input(&p); }
};
struct CodecContextFree {
  void operator()(AVCodecContext* p) const { avcodec_free_context(&p); }
};
struct FrameFree {
  void operator()(AVFrame* p) const { av_frame_free(&p); }
};
struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};

}  // namespace avsl::data::ffmpeg

#endif  // AVSL_HAVE_FFMPEG
