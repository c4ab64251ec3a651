# One precompiled <torch/torch.h>, owned by a neutral OBJECT target so its flags match every consumer
# (a PCH on a SHARED target carries <target>_EXPORTS and GCC silently refuses it elsewhere).
# avsl_use_torch_pch(<target>) makes a target reuse it; -Winvalid-pch makes any refusal visible.
add_library(avsl_torch_pch OBJECT ${CMAKE_CURRENT_LIST_DIR}/torch_pch.cc)
target_link_libraries(avsl_torch_pch PRIVATE ${TORCH_LIBRARIES})
if(AVSL_USE_PCH)
  target_precompile_headers(avsl_torch_pch PRIVATE <torch/torch.h>)
endif()

function(avsl_use_torch_pch target)
  if(AVSL_USE_PCH)
    target_precompile_headers(${target} REUSE_FROM avsl_torch_pch)
    target_compile_options(${target} PRIVATE -Winvalid-pch)
  endif()
endfunction()
