// Test helper: builds a core encoder component from a recipe table through the registry, as a method's
// sub-component would be (`[model.image]` / `[model.audio]` under a schema-only test method).
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "avsl/builtins/core_components.h"
#include "avsl/core/encoder.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"

namespace avsl::testing {

inline void RegisterEncoderHolder(ComponentRegistry& registry) {
  Registrar core("core");
  CoreComponents().register_components(core);
  ASSERT_TRUE(core.status().ok()) << core.status();
  ASSERT_TRUE(registry.Commit(core.staged()).ok());
  Registrar t("t");
  Schema holder("holds encoders");
  holder.Component("image", ComponentKind::kEncoder, "core.ResNet18Image", "image encoder");
  holder.Component("audio", ComponentKind::kEncoder, "core.ResNet18Audio", "audio encoder");
  t.Register<Method>(
      "Holder", std::move(holder),
      [](const ComponentConfig&) -> absl::StatusOr<std::shared_ptr<Method>> {
        return absl::UnimplementedError("only a schema holder");
      },
      "test holder");
  ASSERT_TRUE(registry.Commit(t.staged()).ok());
}

/// `which` is "image" or "audio"; `table` is the TOML body of `[model.<which>]`.
inline absl::StatusOr<std::shared_ptr<Encoder>> BuildEncoder(const std::string& which, const std::string& table) {
  ComponentRegistry registry;
  RegisterEncoderHolder(registry);
  absl::StatusOr<Recipe> recipe = Recipe::Parse("[model]\ntype = \"t.Holder\"\n[model." + which + "]\n" + table,
                                                "inline.toml", ".", {});
  if (!recipe.ok()) return recipe.status();
  if (absl::Status s = recipe->Validate(registry); !s.ok()) return s;
  return registry.Build<Encoder>(recipe->Root().Sub("model").Sub(which));
}

}  // namespace avsl::testing
