# Encoders (issue 5 item 1): ResNet18 image/audio encoders with torchvision parameter names.
list(APPEND AVSL_CORE_TORCH_SOURCES
  src/models/resnet.cc
  src/models/encoder_components.cc
)
