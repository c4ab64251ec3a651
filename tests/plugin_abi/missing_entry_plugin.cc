// A shared library without the avsl entry point.
extern "C" __attribute__((visibility("default"))) int not_an_avsl_plugin() { return 42; }
