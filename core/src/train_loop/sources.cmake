list(APPEND AVSL_CORE_SOURCES src/train_loop/overlay_collector.cc src/train_loop/run_dir.cc src/train_loop/run_report.cc)
list(APPEND AVSL_CORE_TORCH_SOURCES
  src/train_loop/collate.cc
  src/train_loop/map_evaluation.cc
  src/train_loop/precision.cc
  src/train_loop/recipe_builders.cc
  src/train_loop/trainer.cc
  src/train_loop/training_checkpoint.cc)
