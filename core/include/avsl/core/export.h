// Symbol visibility for the SDK: plugins are built with -fvisibility=hidden, so every SDK type whose
// vtable/typeinfo crosses the library boundary is exported from libavsl_core.so exactly once.
#pragma once

#define AVSL_EXPORT __attribute__((visibility("default")))
