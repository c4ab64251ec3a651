#include "avsl/synth/scene_render.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace avsl {
namespace synth {
namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;
using Rgb = std::array<double, 3>;

// A desaturated colour: grey level plus a small tint, so clutter and background never look like the
// saturated class colours.
Rgb Desaturated(CounterRng& rng, double grey_lo, double grey_hi, double tint) {
  const double g = rng.Uniform(grey_lo, grey_hi);
  Rgb c;
  for (double& v : c) v = g + rng.Uniform(-tint, tint);
  return c;
}

double TextureFactor(Texture texture, double u, double v) {
  // Four bands across the box whatever its size, so the pattern survives on small objects.
  const int bu = std::min(3, static_cast<int>(u * 4.0));
  const int bv = std::min(3, static_cast<int>(v * 4.0));
  switch (texture) {
    case Texture::kSolid: return 1.0;
    case Texture::kStripes: return (bv % 2) ? 0.6 : 1.0;
    case Texture::kChecker: return ((bu + bv) % 2) ? 0.6 : 1.0;
  }
  return 1.0;
}

}  // namespace

bool InsideShape(Shape shape, double u, double v) {
  const double du = u - 0.5, dv = v - 0.5;
  switch (shape) {
    case Shape::kDisk: return du * du + dv * dv <= 0.25;
    case Shape::kSquare: return true;
    case Shape::kTriangle: return std::fabs(du) <= 0.5 * v;  // apex at the top centre, base at the bottom
    case Shape::kCross: return std::fabs(du) <= 1.0 / 6.0 || std::fabs(dv) <= 1.0 / 6.0;
    case Shape::kRing: {
      const double r2 = du * du + dv * dv;
      return r2 <= 0.25 && r2 >= 0.09;  // inner radius 0.3 of the box, outer 0.5
    }
  }
  return false;
}

cv::Mat RenderSceneImage(const std::vector<SceneObject>& objects, const ClassCatalogue& catalogue,
                         const SceneOptions& options, CounterRng& background_rng, CounterRng& object_rng,
                         CounterRng& noise_rng) {
  const int w = options.image_width, h = options.image_height;
  std::vector<Rgb> px(static_cast<size_t>(w) * h);

  // Background: linear gradient between two desaturated colours along a random direction.
  const Rgb c1 = Desaturated(background_rng, 0.25, 0.75, 0.12);
  const Rgb c2 = Desaturated(background_rng, 0.25, 0.75, 0.12);
  const double angle = kTwoPi * background_rng.Uniform();
  const double dx = std::cos(angle), dy = std::sin(angle);
  const double half_extent = 0.5 * (std::fabs(dx) * w + std::fabs(dy) * h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const double proj = (x + 0.5 - 0.5 * w) * dx + (y + 0.5 - 0.5 * h) * dy;
      const double t = std::min(1.0, std::max(0.0, 0.5 + 0.5 * proj / half_extent));
      Rgb& p = px[static_cast<size_t>(y) * w + x];
      for (int c = 0; c < 3; ++c) p[c] = c1[c] * (1.0 - t) + c2[c] * t;
    }
  }

  // Clutter: desaturated ellipses anywhere (they may be cut by the border).
  const int side = std::min(w, h);
  const int num_clutter = static_cast<int>(background_rng.UniformInt(static_cast<uint64_t>(options.max_clutter) + 1));
  for (int i = 0; i < num_clutter; ++i) {
    const double cx = background_rng.Uniform(0.0, w), cy = background_rng.Uniform(0.0, h);
    const double rx = side * background_rng.Uniform(options.clutter_min_frac, options.clutter_max_frac);
    const double ry = side * background_rng.Uniform(options.clutter_min_frac, options.clutter_max_frac);
    const Rgb colour = Desaturated(background_rng, 0.15, 0.85, 0.08);
    const int xa = std::max(0, static_cast<int>(std::floor(cx - rx))), xb = std::min(w - 1, static_cast<int>(cx + rx));
    const int ya = std::max(0, static_cast<int>(std::floor(cy - ry))), yb = std::min(h - 1, static_cast<int>(cy + ry));
    for (int y = ya; y <= yb; ++y) {
      for (int x = xa; x <= xb; ++x) {
        const double u = (x + 0.5 - cx) / rx, v = (y + 0.5 - cy) / ry;
        if (u * u + v * v <= 1.0) px[static_cast<size_t>(y) * w + x] = colour;
      }
    }
  }

  // Objects, largest first. Colour jitter is drawn for every object in scene order before painting, so
  // the paint order does not change which random numbers an object gets.
  std::vector<Rgb> colours(objects.size());
  for (size_t i = 0; i < objects.size(); ++i) {
    const ClassSpec& spec = catalogue.at(objects[i].class_id);
    for (int c = 0; c < 3; ++c) {
      colours[i][c] = spec.rgb[c] + object_rng.Uniform(-options.colour_jitter, options.colour_jitter);
    }
  }
  std::vector<size_t> order(objects.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const Box& ba = objects[a].box;
    const Box& bb = objects[b].box;
    return ba.width() * ba.height() > bb.width() * bb.height();
  });
  static constexpr double kSub[2] = {0.25, 0.75};  // 2x2 supersampling: small objects keep their shape
  for (size_t i : order) {
    const SceneObject& obj = objects[i];
    const ClassSpec& spec = catalogue.at(obj.class_id);
    const Box& b = obj.box;
    const double bw = b.width(), bh = b.height();
    for (int y = b.y0; y < b.y1; ++y) {
      for (int x = b.x0; x < b.x1; ++x) {
        Rgb acc{0.0, 0.0, 0.0};
        int hits = 0;
        for (double sy : kSub) {
          for (double sx : kSub) {
            const double u = (x - b.x0 + sx) / bw, v = (y - b.y0 + sy) / bh;
            if (!InsideShape(spec.shape, u, v)) continue;
            // Mild top-to-bottom shading makes the objects look solid without changing their hue.
            const double f = TextureFactor(spec.texture, u, v) * (1.08 - 0.2 * v);
            for (int c = 0; c < 3; ++c) acc[c] += colours[i][c] * f;
            ++hits;
          }
        }
        if (hits == 0) continue;
        Rgb& p = px[static_cast<size_t>(y) * w + x];
        const double cover = hits / 4.0;
        for (int c = 0; c < 3; ++c) p[c] = p[c] * (1.0 - cover) + acc[c] / 4.0;
      }
    }
  }

  cv::Mat image(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    uint8_t* row = image.ptr<uint8_t>(y);
    for (int x = 0; x < w; ++x) {
      const Rgb& p = px[static_cast<size_t>(y) * w + x];
      for (int c = 0; c < 3; ++c) {
        const double v = std::min(1.0, std::max(0.0, p[c] + options.pixel_noise_std * noise_rng.Normal()));
        row[3 * x + (2 - c)] = static_cast<uint8_t>(std::floor(v * 255.0 + 0.5));  // RGB -> BGR
      }
    }
  }
  return image;
}

}  // namespace synth
}  // namespace avsl
