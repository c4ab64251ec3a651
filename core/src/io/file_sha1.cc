#include "avsl/io/file_sha1.h"

#include <boost/uuid/detail/sha1.hpp>
#include <fstream>
#include <iomanip>
#include <sstream>

namespace avsl::io {

std::string FileSha1(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  boost::uuids::detail::sha1 sha;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof(buf));
    sha.process_bytes(buf, static_cast<size_t>(in.gcount()));
  }
  boost::uuids::detail::sha1::digest_type digest;
  sha.get_digest(digest);
  std::ostringstream os;
  // Boost before 1.86 gives five 32-bit words, later versions twenty bytes: the same 40 hex digits either way.
  constexpr int kDigits = 2 * sizeof(digest[0]);
  for (const auto& d : digest) os << std::hex << std::setw(kDigits) << std::setfill('0') << static_cast<unsigned>(d);
  return os.str();
}

}  // namespace avsl::io
