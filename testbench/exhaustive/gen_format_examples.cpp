// Prints the worked-example tables of docs/formats.md from the numeric core:
//   build-h2/testbench/exhaustive/gen_format_examples > /tmp/tables.md
// and paste between the "generated" markers of docs/formats.md (the test
// DocsFormats.tables_are_current fails until the copy matches).
#include <cstdio>

#include "format_examples.h"

int main() {
  std::fputs(ristsim::docs::tables().c_str(), stdout);
  return 0;
}
