// Components registered by the core tests under the "test" scope (no plugin library needed).
#pragma once

#include <memory>

#include <gtest/gtest.h>

#include "avsl/builtins/core_components.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/registrar.h"

namespace avsl::testing {

/// The core's components plus test.Model (method) and test.Enc (encoder), committed to `registry`.
inline void RegisterTestComponents(ComponentRegistry& registry) {
  Registrar core("core");
  CoreComponents().register_components(core);
  ASSERT_TRUE(registry.Commit(core.staged()).ok());

  Registrar test("test");
  Schema model("a method used by the tests");
  model.Float("tau", 0.03, "temperature").Range(1e-4, 1.0);
  model.Int("dim", 512, "embedding size").Range(1, 4096);
  model.String("mode", "slow", "speed").OneOf({"slow", "fast"});
  model.Component("encoder", ComponentKind::kEncoder, "test.Enc", "image encoder");
  // Factories of incomplete interface types are never called here; validation only needs the schema.
  test.Register<Method>(
      "Model", std::move(model),
      [](const ComponentConfig&) -> absl::StatusOr<std::shared_ptr<Method>> {
        return absl::UnimplementedError("not built in tests");
      },
      "test method");
  Schema enc("an encoder used by the tests");
  enc.Int("width", 64, "channels").Range(1, 1024);
  test.Register<Encoder>(
      "Enc", std::move(enc),
      [](const ComponentConfig&) -> absl::StatusOr<std::shared_ptr<Encoder>> {
        return absl::UnimplementedError("not built in tests");
      },
      "test encoder");
  ASSERT_TRUE(test.status().ok());
  ASSERT_TRUE(registry.Commit(test.staged()).ok());
}

}  // namespace avsl::testing
