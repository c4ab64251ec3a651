# Visualization of evaluation results (torch-free, OpenCV): overlays, comparison grids, PNG output.
list(APPEND AVSL_CORE_SOURCES
  src/viz/canvas.cc
  src/viz/colormap.cc
  src/viz/grid.cc
  src/viz/overlay.cc
  src/viz/png_writer.cc
  src/viz/run_grid.cc
  src/viz/sample_inputs.cc
  src/viz/score_overlays.cc
)
