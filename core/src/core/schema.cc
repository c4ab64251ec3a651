#include "avsl/core/schema.h"

#include <charconv>
#include <sstream>

namespace avsl {
namespace {

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string FormatDouble(double v) {
  // Shortest text that reads back as the same double.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, end);
  // TOML needs a dot or exponent to read a float back as a float.
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

template <class T, class F>
std::string Join(const std::vector<T>& values, F format) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + format(values[i]);
  return out + "]";
}

Field MakeField(const std::string& name, FieldType type, const std::string& doc, std::string default_toml) {
  Field f;
  f.name = name;
  f.type = type;
  f.doc = doc;
  f.default_toml = std::move(default_toml);
  return f;
}

}  // namespace

const char* ComponentKindName(ComponentKind kind) {
  switch (kind) {
    case ComponentKind::kEncoder: return "encoder";
    case ComponentKind::kMethod: return "method";
    case ComponentKind::kLoss: return "loss";
    case ComponentKind::kDataset: return "dataset";
    case ComponentKind::kSplit: return "split";
    case ComponentKind::kTransform: return "transform";
    case ComponentKind::kMetric: return "metric";
    case ComponentKind::kHook: return "hook";
    case ComponentKind::kOptimizer: return "optimizer";
    case ComponentKind::kScheduler: return "scheduler";
  }
  return "?";
}

const char* FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kBool: return "bool";
    case FieldType::kInt: return "int";
    case FieldType::kFloat: return "float";
    case FieldType::kString: return "string";
    case FieldType::kIntArray: return "array of int";
    case FieldType::kFloatArray: return "array of float";
    case FieldType::kStringArray: return "array of string";
    case FieldType::kTable: return "table";
    case FieldType::kComponent: return "component";
    case FieldType::kComponentArray: return "array of components";
  }
  return "?";
}

std::string Field::DefaultForDisplay() const {
  if (required) return "(required)";
  if (type == FieldType::kTable) return "(table)";
  if (default_toml.empty()) return "-";
  return default_toml;
}

Field& Schema::Add(Field field) {
  for (Field& existing : fields_) {
    if (existing.name == field.name) {
      existing = std::move(field);  // a later declaration refines an earlier one
      return existing;
    }
  }
  fields_.push_back(std::move(field));
  return fields_.back();
}

Field& Schema::Bool(const std::string& name, bool def, const std::string& doc) {
  return Add(MakeField(name, FieldType::kBool, doc, def ? "true" : "false"));
}
Field& Schema::Int(const std::string& name, long long def, const std::string& doc) {
  return Add(MakeField(name, FieldType::kInt, doc, std::to_string(def)));
}
Field& Schema::Float(const std::string& name, double def, const std::string& doc) {
  return Add(MakeField(name, FieldType::kFloat, doc, FormatDouble(def)));
}
Field& Schema::String(const std::string& name, const std::string& def, const std::string& doc) {
  return Add(MakeField(name, FieldType::kString, doc, Quote(def)));
}
Field& Schema::OptionalString(const std::string& name, const std::string& doc) {
  return Add(MakeField(name, FieldType::kString, doc, ""));
}
Field& Schema::IntArray(const std::string& name, const std::vector<long long>& def, const std::string& doc) {
  return Add(MakeField(name, FieldType::kIntArray, doc, Join(def, [](long long v) { return std::to_string(v); })));
}
Field& Schema::FloatArray(const std::string& name, const std::vector<double>& def, const std::string& doc) {
  return Add(MakeField(name, FieldType::kFloatArray, doc, Join(def, FormatDouble)));
}
Field& Schema::StringArray(const std::string& name, const std::vector<std::string>& def, const std::string& doc) {
  return Add(MakeField(name, FieldType::kStringArray, doc, Join(def, Quote)));
}
Field& Schema::Table(const std::string& name, Schema nested, const std::string& doc) {
  Field f = MakeField(name, FieldType::kTable, doc, "");
  f.table = std::make_shared<const Schema>(std::move(nested));
  return Add(std::move(f));
}
Field& Schema::Component(const std::string& name, ComponentKind kind, const std::string& default_type,
                         const std::string& doc) {
  Field f = MakeField(name, FieldType::kComponent, doc, default_type.empty() ? "" : Quote(default_type));
  f.component_kind = kind;
  return Add(std::move(f));
}
Field& Schema::ComponentArray(const std::string& name, ComponentKind kind, const std::string& doc) {
  Field f = MakeField(name, FieldType::kComponentArray, doc, "[]");
  f.component_kind = kind;
  return Add(std::move(f));
}

const Field* Schema::Find(const std::string& name) const {
  for (const Field& f : fields_)
    if (f.name == name) return &f;
  return nullptr;
}

std::vector<std::string> Schema::FieldNames() const {
  std::vector<std::string> names;
  for (const Field& f : fields_) names.push_back(f.name);
  return names;
}

}  // namespace avsl
