# PyTorch checkpoint import/export (docs/checkpoints.md). The zip, pickle and archive layers are torch-free;
# only the state-dict and module-loading layers include LibTorch.
list(APPEND AVSL_CORE_SOURCES
  src/checkpoint/checkpoint_archive.cc
  src/checkpoint/crc32.cc
  src/checkpoint/pickle_value.cc
  src/checkpoint/pickler.cc
  src/checkpoint/unpickler.cc
  src/checkpoint/zip_reader.cc
  src/checkpoint/zip_writer.cc
)
list(APPEND AVSL_CORE_TORCH_SOURCES
  src/checkpoint/load_into_module.cc
  src/checkpoint/state_dict.cc
)
