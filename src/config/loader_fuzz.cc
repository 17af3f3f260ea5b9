// libFuzzer target: the config loader takes any text and answers with options or with errors,
// never a crash. Errors name the file and a position; options come only without errors. Host
// names are not resolved and no file is read (offline_ForTest), so no input waits on the world.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/loader.h"
#include "http/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool offline = (pier::config::offline_ForTest(true), true);
  (void)offline;
  std::string text(reinterpret_cast<const char*>(data), size);
  pier::config::LoadResult result = pier::config::load_text(text, "fuzz.yaml");
  FUZZ_CHECK(result.options.has_value() == result.errors.empty());
  for (const std::string& error : result.errors) {
    FUZZ_CHECK(error.starts_with("fuzz.yaml"));
  }
  return 0;
}
