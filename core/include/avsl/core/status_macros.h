// Status plumbing shared by the core and plugins. Errors cross component boundaries as absl::Status /
// absl::StatusOr; these macros keep the propagation to one line.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define AVSL_STATUS_CONCAT_INNER_(a, b) a##b
#define AVSL_STATUS_CONCAT_(a, b) AVSL_STATUS_CONCAT_INNER_(a, b)

/// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define AVSL_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::absl::Status avsl_status_ = (expr);        \
    if (!avsl_status_.ok()) return avsl_status_; \
  } while (0)

/// `AVSL_ASSIGN_OR_RETURN(auto x, MakeX());` declares/assigns on success, returns the status otherwise.
#define AVSL_ASSIGN_OR_RETURN(lhs, rexpr) \
  AVSL_ASSIGN_OR_RETURN_IMPL_(AVSL_STATUS_CONCAT_(avsl_statusor_, __LINE__), lhs, rexpr)

#define AVSL_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                \
  if (!statusor.ok()) return statusor.status();           \
  lhs = std::move(statusor).value()
