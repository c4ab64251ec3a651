// Flickr-SoundNet annotation XML (avsl/data/flickr_annotation.h) and the ground-truth map its boxes make.
#include <string>

#include "avsl/data/flickr_annotation.h"
#include "fuzz_target.h"

AVSL_FUZZ_TARGET(flickr_xml) {
  auto annotation = avsl::data::ParseFlickrAnnotationXml(std::string(reinterpret_cast<const char*>(data), size),
                                                         "fuzz.xml");
  if (annotation.ok()) (void)avsl::data::FlickrGtMap(annotation->boxes);
  return 0;
}
