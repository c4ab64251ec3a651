// Declarative schema of a component's recipe table: one table drives validation, defaults and
// `avsl recipe describe`, so the three can never disagree (the marian `cli.add<T>` idea).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "avsl/core/component_kind.h"
#include "avsl/core/export.h"

namespace avsl {

enum class FieldType {
  kBool,
  kInt,
  kFloat,
  kString,
  kIntArray,
  kFloatArray,
  kStringArray,
  kTable,           ///< a nested table with its own fixed schema
  kComponent,       ///< a table whose `type` names a registered component of `component_kind`
  kComponentArray,  ///< an array of such tables (e.g. `[[hooks]]`)
};

const char* FieldTypeName(FieldType type);

class Schema;

/// One key of a recipe table.
struct AVSL_EXPORT Field {
  std::string name;
  FieldType type = FieldType::kString;
  std::string doc;
  /// Default as a TOML literal ("0.03", "[224, 224]", "\"last\""); for components, the default `type`.
  /// Empty means "no default": the key is optional unless `required`.
  std::string default_toml;
  bool required = false;
  std::optional<double> min;  ///< inclusive bounds for numbers (and for each element of numeric arrays)
  std::optional<double> max;
  std::vector<std::string> choices;  ///< allowed values for strings
  ComponentKind component_kind = ComponentKind::kMethod;
  std::shared_ptr<const Schema> table;  ///< for kTable

  Field& Range(double lo, double hi) {
    min = lo;
    max = hi;
    return *this;
  }
  Field& Min(double lo) {
    min = lo;
    return *this;
  }
  Field& Max(double hi) {
    max = hi;
    return *this;
  }
  Field& OneOf(std::vector<std::string> values) {
    choices = std::move(values);
    return *this;
  }
  Field& Required() {
    required = true;
    return *this;
  }
  /// One-line rendering of the default for listings ("-" when there is none).
  std::string DefaultForDisplay() const;
};

/// Ordered set of fields. Builder methods return the new field so constraints can be chained:
/// `schema.Float("tau", 0.03, "softmax temperature").Range(1e-4, 1);`
class AVSL_EXPORT Schema {
 public:
  explicit Schema(std::string doc = "") : doc_(std::move(doc)) {}

  Field& Bool(const std::string& name, bool def, const std::string& doc);
  Field& Int(const std::string& name, long long def, const std::string& doc);
  Field& Float(const std::string& name, double def, const std::string& doc);
  Field& String(const std::string& name, const std::string& def, const std::string& doc);
  /// A string with no default; optional unless `.Required()`.
  Field& OptionalString(const std::string& name, const std::string& doc);
  Field& IntArray(const std::string& name, const std::vector<long long>& def, const std::string& doc);
  Field& FloatArray(const std::string& name, const std::vector<double>& def, const std::string& doc);
  Field& StringArray(const std::string& name, const std::vector<std::string>& def, const std::string& doc);
  Field& Table(const std::string& name, Schema nested, const std::string& doc);
  /// `default_type` empty: optional (absent means "none") unless `.Required()`.
  Field& Component(const std::string& name, ComponentKind kind, const std::string& default_type,
                   const std::string& doc);
  Field& ComponentArray(const std::string& name, ComponentKind kind, const std::string& doc);

  const Field* Find(const std::string& name) const;
  const std::vector<Field>& fields() const { return fields_; }
  std::vector<std::string> FieldNames() const;
  const std::string& doc() const { return doc_; }

 private:
  Field& Add(Field field);
  std::string doc_;
  std::vector<Field> fields_;
};

}  // namespace avsl
