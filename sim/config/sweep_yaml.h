// A design-space sweep ("ristsim sweep", docs/sweep.md): a base arch, the models
// and data to score it on, the arch keys to vary (axes, by their YAML path), a
// grid or a seeded random sample of the axes' product, what to measure at every
// point, and the Slurm resources of a cluster run. Read and validated like an
// arch file (every error "FILE:LINE:COLUMN: ..."); every point's arch is built
// by setting the axis values in the base arch's YAML and goes through the normal
// arch validation (parse_arch) when the sweep is loaded: a sweep with an invalid
// point is a load-time error naming the point, its axis values (with their line
// and column) and what the arch validation said. Nothing is run before that.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/arch.h"
#include "io/prep.h"

namespace ristsim::config {

/// One arch key varied by the sweep, e.g. `formats.weights.bits: [2, 4, 6, 8]`.
struct SweepAxis {
  std::string path;                 ///< dotted path into the arch YAML
  std::vector<std::string> values;  ///< each value as flow-style YAML (labels, database)
  std::vector<int> lines, columns;  ///< 1-based position of each value in the sweep file
};

/// A network and the data it is scored on.
struct SweepModel {
  std::string name;   ///< label in the results (default: the file's stem)
  std::string model;  ///< model file, resolved against the sweep file's folder
  std::string data;   ///< data set name or folder (folders resolved like model)
  /// The image preparation keys given (preprocess, resize, crop, mean, scale, channels, order,
  /// max_images: the CLI's data options, io/prep.h) and the options they make, validated.
  io::PrepSettings prep;
  io::ImageFolderOptions image;
};

/// What every point measures.
struct SweepMeasure {
  int images = 1000;   ///< top-1 on the first N test images (0: all)
  int calib = 1000;    ///< training images of the dynamic fixed-point range analysis
  int batch = 100;     ///< evaluation batch size
  bool fp32 = false;   ///< also the float32 top-1 of the model (once per point)
  bool cost = true;    ///< area and energy per inference (sim/cost)
  bool cycles = true;  ///< cycles per inference (the cycle model's schedule)
  std::string cosim;   ///< layer to co-simulate (empty: none)
};

/// Resources of the Slurm backend (sbatch options; empty: the cluster's default).
struct SweepSlurm {
  std::string partition, account, qos, time = "00:30:00", mem = "2G";
  int cpus_per_task = 1;
  int points_per_task = 1;         ///< points evaluated by one array task
  int max_retries = 2;             ///< resubmissions of a failed or preempted task
  int max_running = 0;             ///< array throttle (%N); 0: no limit
  std::vector<std::string> extra;  ///< more `#SBATCH` options, verbatim
};

/// One point: a model and one value index per axis, with its validated arch.
struct SweepPoint {
  int index = 0;           ///< position in the sweep (0-based)
  int model = 0;           ///< index into Sweep::models
  std::vector<int> value;  ///< value index per axis
  Arch arch;               ///< validated; arch.text is the point's arch YAML
  std::string id;          ///< 16 hex digits: hash of the arch text, model, data, measure
};

struct Sweep {
  std::string path;  ///< the sweep file
  std::string text;  ///< its bytes
  std::string name;
  std::string base_arch;  ///< the base arch file (resolved), or "" when inline
  std::vector<SweepModel> models;
  std::vector<SweepAxis> axes;
  bool random = false;  ///< a seeded random sample of the grid instead of the grid
  int samples = 0;      ///< points of the random sample
  uint64_t seed = 1;
  SweepMeasure measure;
  SweepSlurm slurm;
  std::vector<SweepPoint> points;  ///< grid order (models outermost, last axis fastest)

  /// "formats.weights.bits=4 array.lanes=16" (and "model=lenet" with several models).
  std::string label(const SweepPoint& p) const;
};

/// Reads, parses and validates a sweep file and builds its points. Throws ConfigError.
Sweep load_sweep(const std::string& path);

/// The same from text; relative paths resolve against `path`'s folder.
Sweep parse_sweep(const std::string& text, const std::string& path);

/// The base arch YAML `arch_text` with `path` (dotted) set to the YAML value
/// `value` (flow style, e.g. "8" or "{type: fixed, bits: 8, fl: 4}"); missing
/// maps on the way are created. Throws std::invalid_argument when a step of the
/// path is not a map. The result is YAML text, not yet validated.
std::string set_arch_key(const std::string& arch_text, const std::string& path,
                         const std::string& value);

}  // namespace ristsim::config
