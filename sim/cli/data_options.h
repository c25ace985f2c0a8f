// The data options every command that reads a data set shares: how an image folder is
// prepared (--preprocess, --resize, --crop, --mean, --scale, --channels), which images
// (--max-images, --order) and how they are read (--data-threads, --data-load). One parser,
// one validation, one way to open the data (docs/data.md).
#pragma once

#include <memory>
#include <string>

#include "cli/cli.h"
#include "io/dataset.h"

namespace ristsim::cli {

struct DataOptions {
  io::ImageFolderOptions image;  ///< image folders' preparation; max_images for every format
  io::StreamOptions stream;
  bool in_memory = false;  ///< --data-load memory: read each split whole (the pre-stream path)
};

/// Adds the options. `streaming`: the command evaluates batch by batch and may stream (adds
/// --data-load); training commands read their splits into memory.
void add_data_options(CommandLine& cl, bool streaming);

/// The options as given (after cl.parse), checked against the data set `data`: preparation
/// options on a set that is not an image folder, bad sizes or means are UsageErrors.
DataOptions data_options(const CommandLine& cl, const std::string& data);

/// One split of the data set: streamed (image folders decoded on demand, read ahead) or, with
/// in_memory, read whole into memory behind the same interface.
std::unique_ptr<io::DataSource> open_data(const std::string& data, bool train,
                                          const DataOptions& o);

/// One split read whole into memory (training needs random access), at most
/// --max-images images; the DataError names the folder when it does not fit.
io::Dataset load_data(const std::string& data, bool train, const DataOptions& o);

}  // namespace ristsim::cli
