// The command table of the ristsim executable. To add a command: write
// cmd_<name>.cpp with `int cmd_<name>(const std::vector<std::string>&)`, then add
// its declaration and one row below. Keep the rows sorted by name.
#include "cli/cli.h"

namespace ristsim::cli {

int cmd_cosim(const std::vector<std::string>& args);
int cmd_eval(const std::vector<std::string>& args);
int cmd_finetune(const std::vector<std::string>& args);
int cmd_format(const std::vector<std::string>& args);
int cmd_quantize(const std::vector<std::string>& args);
int cmd_report(const std::vector<std::string>& args);
int cmd_rtl(const std::vector<std::string>& args);
int cmd_sweep(const std::vector<std::string>& args);
int cmd_synth_images(const std::vector<std::string>& args);
int cmd_train(const std::vector<std::string>& args);

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"cosim", "co-simulate the arch's PE or PE array: SystemC model vs Verilated RTL vs golden model",
       cmd_cosim},
      {"eval", "evaluate a model on a data set, float or quantized (top-1/5, statistics)", cmd_eval},
      {"finetune", "fine-tune a quantized model with shadow weights (Ristretto), resumable", cmd_finetune},
      {"format", "show what a number format does to values (value, code, error, flags)",
       cmd_format},
      {"quantize", "range analysis and bit-width search under an error margin (Ristretto's flow)",
       cmd_quantize},
      {"report", "area and energy report of an arch running a model (md, html, json, plots)",
       cmd_report},
      {"rtl", "generate the SystemVerilog of the arch's processing element", cmd_rtl},
      {"sweep", "design-space sweep of arch keys over models, locally or on Slurm (SQLite results)",
       cmd_sweep},
      {"synth-images", "write a synthetic ImageNet-shaped image folder (tests, data measurements)",
       cmd_synth_images},
      {"train", "train a network description on a data set (SGD / Adam)", cmd_train},
  };
  return table;
}

const Command* find_command(const std::string& name) {
  for (const Command& c : commands())
    if (name == c.name) return &c;
  return nullptr;
}

}  // namespace ristsim::cli
