// The kinds of components a plugin may register. Each kind has one abstract interface; the registry is
// typed by kind so that `type = "ezvsl.EZVSL"` in a `[model]` table can only name a method.
#pragma once

#include <array>
#include <string>

namespace avsl {

enum class ComponentKind {
  kEncoder,
  kMethod,
  kLoss,
  kDataset,
  kSplit,
  kTransform,
  kMetric,
  kHook,
  kOptimizer,
  kScheduler,
};

inline constexpr std::array<ComponentKind, 10> kAllComponentKinds = {
    ComponentKind::kEncoder,   ComponentKind::kMethod,    ComponentKind::kLoss,   ComponentKind::kDataset,
    ComponentKind::kSplit,     ComponentKind::kTransform, ComponentKind::kMetric, ComponentKind::kHook,
    ComponentKind::kOptimizer, ComponentKind::kScheduler};

/// Lower-case name used in messages and listings ("method", "dataset", ...).
const char* ComponentKindName(ComponentKind kind);

// Interfaces, one per kind (defined in their own headers so that torch stays out of torch-free code).
class Encoder;
class Method;
class Loss;
class Dataset;
class Split;
class Transform;
class Metric;
class Hook;
class OptimizerFactory;
class LrSchedule;

/// Maps an interface type to its kind at compile time.
template <class T>
struct KindOf;
template <>
struct KindOf<Encoder> {
  static constexpr ComponentKind value = ComponentKind::kEncoder;
};
template <>
struct KindOf<Method> {
  static constexpr ComponentKind value = ComponentKind::kMethod;
};
template <>
struct KindOf<Loss> {
  static constexpr ComponentKind value = ComponentKind::kLoss;
};
template <>
struct KindOf<Dataset> {
  static constexpr ComponentKind value = ComponentKind::kDataset;
};
template <>
struct KindOf<Split> {
  static constexpr ComponentKind value = ComponentKind::kSplit;
};
template <>
struct KindOf<Transform> {
  static constexpr ComponentKind value = ComponentKind::kTransform;
};
template <>
struct KindOf<Metric> {
  static constexpr ComponentKind value = ComponentKind::kMetric;
};
template <>
struct KindOf<Hook> {
  static constexpr ComponentKind value = ComponentKind::kHook;
};
template <>
struct KindOf<OptimizerFactory> {
  static constexpr ComponentKind value = ComponentKind::kOptimizer;
};
template <>
struct KindOf<LrSchedule> {
  static constexpr ComponentKind value = ComponentKind::kScheduler;
};

}  // namespace avsl
