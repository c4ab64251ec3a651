#include <algorithm>
#include <cctype>

#include "avsl/core/recipe.h"

namespace avsl {
namespace {

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::vector<std::string> ClosestNames(const std::string& name, const std::vector<std::string>& candidates) {
  // A suggestion must be closer than about a third of the word, else it is noise.
  const size_t limit = std::max<size_t>(2, name.size() / 3);
  std::vector<std::pair<size_t, std::string>> scored;
  for (const std::string& c : candidates) {
    size_t d = EditDistance(name, c);
    // Also match the unscoped part ("EZVSL" for "ezvsl.EZVSL").
    size_t dot = c.find('.');
    if (dot != std::string::npos) d = std::min(d, EditDistance(name, c.substr(dot + 1)));
    if (d <= limit) scored.emplace_back(d, c);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> out;
  for (auto& [d, c] : scored) out.push_back(c);
  return out;
}

}  // namespace avsl
