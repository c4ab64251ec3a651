// A component's options written once: a plain struct with its defaults as member initializers, bound field by
// field to the recipe schema (name, doc, range or choices) and read back in one call. The schema's defaults
// come from the struct, so validation, `avsl recipe describe` and the struct the component uses cannot disagree.
//
//   struct TauOptions { double tau = 0.03; long long dim = 512; bool momentum = false; };
//   avsl::Options<TauOptions> o("my method");
//   o.Float("tau", &TauOptions::tau, "temperature").Range(1e-4, 10);
//   o.Int("dim", &TauOptions::dim, "embedding size").Min(1);
//   o.Choice("eval_encoder", &TauOptions::momentum, {{"online", false}, {"momentum", true}}, "which encoder");
//   o.schema().Component("image_encoder", ...);          // nested components stay schema entries
//   registrar.Register<Method>("M", o.schema(), [o](const ComponentConfig& c) { TauOptions opt = o.Read(c); ... });
#pragma once

#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "avsl/core/component_config.h"
#include "avsl/core/schema.h"

namespace avsl {

template <typename T>
class Options {
  static_assert(std::is_default_constructible_v<T>, "Options<T>: T's member initializers are the defaults");

 public:
  explicit Options(std::string doc) : schema_(std::move(doc)) {}

  Field& Bool(const std::string& name, bool T::*member, const std::string& doc) {
    readers_.push_back([name, member](const ComponentConfig& c, T& out) { out.*member = c.GetBool(name); });
    return schema_.Bool(name, defaults_.*member, doc);
  }
  template <typename M>
  Field& Int(const std::string& name, M T::*member, const std::string& doc) {
    static_assert(std::is_integral_v<M> && !std::is_same_v<M, bool>, "Int binds an integer member");
    readers_.push_back(
        [name, member](const ComponentConfig& c, T& out) { out.*member = static_cast<M>(c.GetInt(name)); });
    return schema_.Int(name, static_cast<long long>(defaults_.*member), doc);
  }
  template <typename M>
  Field& Float(const std::string& name, M T::*member, const std::string& doc) {
    static_assert(std::is_floating_point_v<M>, "Float binds a floating-point member");
    readers_.push_back(
        [name, member](const ComponentConfig& c, T& out) { out.*member = static_cast<M>(c.GetFloat(name)); });
    return schema_.Float(name, static_cast<double>(defaults_.*member), doc);
  }
  Field& String(const std::string& name, std::string T::*member, const std::string& doc) {
    readers_.push_back([name, member](const ComponentConfig& c, T& out) { out.*member = c.GetString(name); });
    return schema_.String(name, defaults_.*member, doc);
  }
  Field& FloatArray(const std::string& name, std::vector<double> T::*member, const std::string& doc) {
    readers_.push_back([name, member](const ComponentConfig& c, T& out) { out.*member = c.GetFloatArray(name); });
    return schema_.FloatArray(name, defaults_.*member, doc);
  }
  Field& IntArray(const std::string& name, std::vector<long long> T::*member, const std::string& doc) {
    readers_.push_back([name, member](const ComponentConfig& c, T& out) { out.*member = c.GetIntArray(name); });
    return schema_.IntArray(name, defaults_.*member, doc);
  }
  /// A string key whose value picks one of `choices` (an enum, a flag, ...). The struct's default must be one of
  /// the choices' values (a programming error otherwise: ConfigError when the schema is built).
  template <typename M>
  Field& Choice(const std::string& name, M T::*member, std::vector<std::pair<std::string, M>> choices,
                const std::string& doc) {
    std::vector<std::string> names;
    std::string def;
    for (const auto& [text, value] : choices) {
      names.push_back(text);
      if (def.empty() && value == defaults_.*member) def = text;
    }
    if (def.empty()) throw ConfigError("Options: the default of '" + name + "' is none of its choices");
    readers_.push_back([name, member, choices](const ComponentConfig& c, T& out) {
      const std::string text = c.GetString(name);
      for (const auto& [t, value] : choices)
        if (t == text) out.*member = value;
    });
    return schema_.String(name, def, doc).OneOf(std::move(names));
  }

  /// The schema to register (copy it; Options stays usable for Read).
  Schema& schema() { return schema_; }
  const Schema& schema() const { return schema_; }

  /// Every bound member read from a validated table; members without a key keep their initializers.
  T Read(const ComponentConfig& config) const {
    T out{};
    for (const auto& read : readers_) read(config, out);
    return out;
  }

 private:
  T defaults_{};
  Schema schema_;
  std::vector<std::function<void(const ComponentConfig&, T&)>> readers_;
};

}  // namespace avsl
