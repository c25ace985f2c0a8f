// ONNX graph IR -> engine layers (see onnx_import.h for the op table).
#include "io/onnx_import.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <set>

#include "engine/layer.h"
#include "numeric/checked.h"

namespace ristsim::io {

namespace {

using engine::LayerSpec;
using Shape = std::vector<int>;

[[noreturn]] void unsupported(const Node& n, const std::string& why) {
  throw UnsupportedError(n.describe() + ": " + why);
}

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

std::string ints_str(const std::vector<int64_t>& v) {
  std::string r = "[";
  for (std::size_t i = 0; i < v.size(); ++i) r += (i ? ", " : "") + std::to_string(v[i]);
  return r + "]";
}

// An attribute value (or a size taken from one) as an int in [lo, hi]: the one conversion of
// every integer attribute, so that no value outside an int reaches the engine's arithmetic.
int attr_int(const Node& n, const std::string& name, int64_t v, int64_t lo,
             int64_t hi = checked::kMaxDim) {
  if (v < lo || v > hi)
    unsupported(n, name + " " + std::to_string(v) + " is out of range " + std::to_string(lo) +
                       ".." + std::to_string(hi));
  return static_cast<int>(v);
}

bool engine_has(const std::string& type) {
  static const std::set<std::string> types = [] {
    const auto v = engine::layer_types();
    return std::set<std::string>(v.begin(), v.end());
  }();
  return types.count(type) > 0;
}

bool present(const Node& n, std::size_t i) {
  return i < n.inputs.size() && !n.inputs[i].empty();
}

// The initializer feeding input i; UnsupportedError when it is a runtime value.
const Tensor& constant_input(const Node& n, std::size_t i, const Graph& g, const char* role) {
  const Tensor* t = present(n, i) ? g.find_initializer(n.inputs[i]) : nullptr;
  if (!t)
    unsupported(n, std::string("input ") + std::to_string(i) + " ('" +
                       (i < n.inputs.size() ? n.inputs[i] : "") + "', " + role +
                       ") must be a constant initializer: engine layers hold it as a parameter");
  if (t->type != DataType::kFloat && !is_integer_type(t->type) && t->type != DataType::kDouble &&
      t->type != DataType::kFloat16)
    unsupported(n, std::string(role) + " has element type " + data_type_name(t->type));
  return *t;
}

// axis in [-rank, rank) (or [-rank, rank] with end_inclusive, Flatten's range) -> [0, rank].
int canonical_axis(const Node& n, int64_t axis, std::size_t rank, const char* what,
                   bool end_inclusive = false) {
  const int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r + (end_inclusive ? 1 : 0))
    unsupported(n, std::string(what) + " " + std::to_string(axis) + " is out of range for rank " +
                       std::to_string(rank));
  return static_cast<int>(axis < 0 ? axis + r : axis);
}

// Layer name: the node's name, or op + position; each layer of a node gets a suffix.
std::string layer_name(const Node& n) {
  if (!n.name.empty()) return n.name;
  return n.op_type + "_" + (n.outputs.empty() ? std::string("0") : n.outputs.front());
}

ImportedLayer make_layer(const Node& n, const std::string& type, std::vector<std::string> bottoms,
                         std::vector<std::string> tops, const std::string& suffix = "") {
  ImportedLayer l;
  l.spec.name = layer_name(n) + suffix;
  l.spec.type = type;
  l.spec.bottoms = std::move(bottoms);
  l.spec.tops = std::move(tops);
  return l;
}

void require_outputs(const Node& n, std::size_t max_outputs, const char* why) {
  std::size_t used = 0;
  for (std::size_t i = 0; i < n.outputs.size(); ++i)
    if (!n.outputs[i].empty()) used = i + 1;
  if (used > max_outputs)
    unsupported(n, "output " + std::to_string(max_outputs) + " ('" + n.outputs[max_outputs] +
                       "') is not supported: " + why);
}

void require_rank(const Node& n, const Shape& s, std::size_t rank, const char* layer) {
  if (s.size() != rank)
    unsupported(n, "input of rank " + std::to_string(s.size()) + " " + shape_str(s) +
                       ": the engine's " + layer + " takes " + std::to_string(rank) +
                       "-D input (N, C, H, W)");
}

// 2-D window geometry shared by Conv and the pools: kernel, strides, dilations, symmetric pads
// (explicit or from auto_pad), with UnsupportedError for what the engine's layers lack.
struct Window {
  int kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, ph = 0, pw = 0;
};

Window window(const Node& n, const Shape& x, int kh, int kw) {
  Window w;
  w.kh = kh;
  w.kw = kw;
  const auto strides = n.get_ints("strides", {1, 1});
  const auto dil = n.get_ints("dilations", {1, 1});
  if (strides.size() != 2) unsupported(n, "strides " + ints_str(strides) + " are not 2-D");
  if (dil.size() != 2) unsupported(n, "dilations " + ints_str(dil) + " are not 2-D");
  w.sh = attr_int(n, "strides", strides[0], 1);
  w.sw = attr_int(n, "strides", strides[1], 1);
  w.dh = attr_int(n, "dilations", dil[0], 1);
  w.dw = attr_int(n, "dilations", dil[1], 1);
  const std::string auto_pad = n.get_string("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") {
    const auto pads = n.get_ints("pads", {0, 0, 0, 0});
    if (pads.size() != 4) unsupported(n, "pads " + ints_str(pads) + " are not 2-D");
    if (pads[0] != pads[2] || pads[1] != pads[3])
      unsupported(n, "asymmetric pads " + ints_str(pads) +
                         " (begin != end): the engine pads both sides equally");
    w.ph = attr_int(n, "pads", pads[0], 0);
    w.pw = attr_int(n, "pads", pads[1], 0);
  } else if (auto_pad == "VALID") {
    w.ph = w.pw = 0;
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    // In 64 bits: every factor is an int, so no product or sum overflows.
    auto same = [&](int64_t in, int64_t k, int64_t s, int64_t d, const char* axis) {
      const int64_t out = (in + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (out - 1) * s + (k - 1) * d + 1 - in);
      if (total % 2)
        unsupported(n, "auto_pad " + auto_pad + " needs " + std::to_string(total) +
                           " padding rows/cols on axis " + axis +
                           ", an odd total (asymmetric): the engine pads both sides equally");
      return attr_int(n, std::string("auto_pad ") + auto_pad + " padding", total / 2, 0);
    };
    w.ph = same(x[2], w.kh, w.sh, w.dh, "H");
    w.pw = same(x[3], w.kw, w.sw, w.dw, "W");
  } else {
    unsupported(n, "auto_pad '" + auto_pad + "' is not an ONNX value");
  }
  return w;
}

void set_hw(LayerSpec& s, const std::string& key, int h, int w) {
  s.set(key, std::vector<double>{double(h), double(w)});
}

// Checks that every runtime input is float.
void require_float(const Node& n, const std::vector<Shape>&, const Graph& g) {
  for (const ValueInfo& v : g.inputs)
    for (const std::string& in : n.inputs)
      if (in == v.name && v.type != DataType::kFloat && !g.find_initializer(in))
        unsupported(n, "input '" + in + "' is " + data_type_name(v.type) +
                           ": the engine's layers compute in float32");
}

// ---- per op ------------------------------------------------------------------------------

// `lifted`: a 1-D Conv run as 2-D (see as_2d): W [K, C/g, k] is used as [K, C/g, 1, k].
std::vector<ImportedLayer> conv(const Node& n, const std::vector<Shape>& in, const Graph& g,
                                bool lifted = false) {
  require_rank(n, in[0], 4, "Convolution");
  Tensor W = constant_input(n, 1, g, "weights W");
  if (lifted && W.dims.size() == 3) W.dims.insert(W.dims.begin() + 2, 1);
  if (W.dims.size() != 4)
    unsupported(n, "weights of rank " + std::to_string(W.dims.size()) + ": 2-D convolution only");
  const auto ks = n.get_ints("kernel_shape", {W.dims[2], W.dims[3]});
  if (ks.size() != 2 || ks[0] != W.dims[2] || ks[1] != W.dims[3])
    unsupported(n, "kernel_shape " + ints_str(ks) + " does not match W " + ints_str(W.dims));
  Window w = window(n, in[0], attr_int(n, "kernel_shape", ks[0], 1),
                    attr_int(n, "kernel_shape", ks[1], 1));
  const int64_t group = attr_int(n, "group", n.get_int("group", 1), 1);
  if (W.dims[1] * group != in[0][1])
    unsupported(n, "W " + ints_str(W.dims) + " with group " + std::to_string(group) +
                       " does not fit the input " + shape_str(in[0]));
  ImportedLayer l = make_layer(n, "Convolution", {n.inputs[0]}, {n.outputs[0]});
  l.spec.set("num_output", double(W.dims[0]));
  set_hw(l.spec, "kernel_size", w.kh, w.kw);
  set_hw(l.spec, "stride", w.sh, w.sw);
  set_hw(l.spec, "pad", w.ph, w.pw);
  set_hw(l.spec, "dilation", w.dh, w.dw);
  l.spec.set("group", double(group));
  l.params.push_back(W);
  if (present(n, 2)) {
    const Tensor& B = constant_input(n, 2, g, "bias B");
    if (B.numel() != W.dims[0])
      unsupported(n, "bias of " + std::to_string(B.numel()) + " values for " +
                         std::to_string(W.dims[0]) + " output channels");
    l.params.push_back(B);
  } else {
    l.spec.set("bias_term", std::string("false"));
  }
  return {l};
}

// y = x * W^T (+ bias) with W [N, K] from a [K, N] or [N, K] constant.
Tensor weights_nk(const Tensor& B, bool transposed, float alpha) {
  const int64_t r = B.dims[0], c = B.dims[1];
  Tensor W;
  W.name = B.name;
  W.type = DataType::kFloat;
  W.dims = transposed ? std::vector<int64_t>{r, c} : std::vector<int64_t>{c, r};
  W.data.resize(B.data.size());
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) {
      const float v = B.data[i * c + j] * alpha;
      if (transposed)
        W.data[i * c + j] = v;
      else
        W.data[j * r + i] = v;
    }
  return W;
}

std::vector<ImportedLayer> gemm(const Node& n, const std::vector<Shape>& in, const Graph& g) {
  const bool is_matmul = n.op_type == "MatMul";
  if (in[0].size() != 2)
    unsupported(n, "A of rank " + std::to_string(in[0].size()) + " " + shape_str(in[0]) +
                       ": the engine's InnerProduct multiplies [N, K] inputs only");
  if (!is_matmul && n.get_int("transA", 0) != 0)
    unsupported(n,
                "transA=1: the engine's InnerProduct takes A as [N, K] (no transpose of the "
                "runtime input)");
  const Tensor& B = constant_input(n, 1, g, "B");
  if (B.dims.size() != 2)
    unsupported(n, "B of rank " + std::to_string(B.dims.size()) + " " + ints_str(B.dims) +
                       ": the engine's InnerProduct has one weight matrix");
  const bool transB = !is_matmul && n.get_int("transB", 0) != 0;
  const float alpha = is_matmul ? 1.f : n.get_float("alpha", 1.f);
  const float beta = is_matmul ? 0.f : n.get_float("beta", 1.f);
  Tensor W = weights_nk(B, transB, alpha);
  const int64_t N = W.dims[0], K = W.dims[1];
  if (K != in[0][1])
    unsupported(n, "A " + shape_str(in[0]) + " and B " + ints_str(B.dims) + " do not match");
  const bool has_c = !is_matmul && present(n, 2) && beta != 0.f;
  ImportedLayer ip = make_layer(n, "InnerProduct", {n.inputs[0]}, {n.outputs[0]});
  ip.spec.set("num_output", double(N));
  ip.params.push_back(W);
  if (!has_c) {
    ip.spec.set("bias_term", std::string("false"));
    return {ip};
  }
  const Tensor& C = constant_input(n, 2, g, "C");
  const int64_t M = in[0][0];
  // A bias vector: C broadcast along rows ([N], [1, N], or a scalar).
  const bool vec = C.numel() == 1 || (C.dims.size() == 1 && C.dims[0] == N) ||
                   (C.dims.size() == 2 && C.dims[0] == 1 && C.dims[1] == N);
  if (vec) {
    Tensor bias = Tensor::from_floats(C.name, {N}, std::vector<float>(N));
    for (int64_t k = 0; k < N; ++k) bias.data[k] = beta * C.data[C.numel() == 1 ? 0 : k];
    ip.params.push_back(bias);
    return {ip};
  }
  if (C.dims.size() == 2 && C.dims[0] == M && C.dims[1] == N) {
    // A full matrix: InnerProduct without bias, then Eltwise sum with the constant C.
    ip.spec.set("bias_term", std::string("false"));
    const std::string mid = n.outputs[0] + "/ip";
    ip.spec.tops = {mid};
    ImportedLayer add = make_layer(n, "Eltwise", {mid, n.inputs[2]}, {n.outputs[0]}, "/c");
    add.spec.set("coeff", std::vector<double>{1.0, double(beta)});
    add.constant_bottoms = {n.inputs[2]};
    return {ip, add};
  }
  unsupported(n, "C " + ints_str(C.dims) + " broadcasts to [" + std::to_string(M) + ", " +
                     std::to_string(N) +
                     "] along columns: the engine adds a per-output bias or "
                     "an equal-shape tensor only");
}

std::vector<ImportedLayer> pool(const Node& n, const std::vector<Shape>& in, const Graph& g) {
  require_float(n, in, g);
  require_rank(n, in[0], 4, "Pooling");
  const bool max = n.op_type == "MaxPool";
  require_outputs(n, 1, "the engine's Pooling has no argmax output");
  const auto ks = n.get_ints("kernel_shape", {});
  if (ks.size() != 2) unsupported(n, "kernel_shape " + ints_str(ks) + " is not 2-D");
  Window w = window(n, in[0], attr_int(n, "kernel_shape", ks[0], 1),
                    attr_int(n, "kernel_shape", ks[1], 1));
  if (!max && (w.dh != 1 || w.dw != 1))
    unsupported(n, "dilations [" + std::to_string(w.dh) + ", " + std::to_string(w.dw) +
                       "]: the engine dilates max pooling only");
  const int64_t ekh = int64_t(w.kh - 1) * w.dh + 1, ekw = int64_t(w.kw - 1) * w.dw + 1;  // dilated
  if (w.ph >= ekh || w.pw >= ekw)
    unsupported(n, "pads [" + std::to_string(w.ph) + ", " + std::to_string(w.pw) +
                       "] not smaller than the kernel (Caffe's rule)");
  const bool ceil = n.get_int("ceil_mode", 0) != 0;
  if (ceil) {
    // ONNX keeps a last window that starts in the end padding; Caffe (the engine) drops it.
    for (int a = 0; a < 2; ++a) {
      const int64_t in_a = in[0][2 + a], k = a ? ekw : ekh, s = a ? w.sw : w.sh,
                    p = a ? w.pw : w.ph;
      const int64_t out = (in_a + 2 * p - k + s - 1) / s + 1;
      if (p > 0 && (out - 1) * s >= in_a + p)
        unsupported(n,
                    "ceil_mode=1 where the last window starts in the padding: ONNX keeps it, "
                    "the engine (Caffe) drops it");
    }
  }
  const bool include_pad = n.get_int("count_include_pad", 0) != 0;
  if (!max && (w.ph || w.pw) && ceil && include_pad)
    unsupported(n,
                "ceil_mode=1 with padding and count_include_pad=1: the engine's divisor for "
                "windows running past the padded input differs from ONNX's");
  ImportedLayer l = make_layer(n, "Pooling", {n.inputs[0]}, {n.outputs[0]});
  l.spec.set("pool", std::string(max ? "max" : "ave"));
  set_hw(l.spec, "kernel_size", w.kh, w.kw);
  set_hw(l.spec, "stride", w.sh, w.sw);
  set_hw(l.spec, "pad", w.ph, w.pw);
  l.spec.set("round", std::string(ceil ? "ceil" : "floor"));
  if (w.dh != 1 || w.dw != 1) set_hw(l.spec, "dilation", w.dh, w.dw);
  if (!max && (w.ph || w.pw) && !include_pad)  // ONNX's default: pad cells not in the divisor
    l.spec.set("count_include_pad", std::string("false"));
  return {l};
}

std::vector<ImportedLayer> global_pool(const Node& n, const std::vector<Shape>& in, const Graph&) {
  require_rank(n, in[0], 4, "Pooling");
  ImportedLayer l = make_layer(n, "Pooling", {n.inputs[0]}, {n.outputs[0]});
  l.spec.set("pool", std::string("ave"));
  l.spec.set("global_pooling", std::string("true"));
  return {l};
}

std::vector<ImportedLayer> lrn(const Node& n, const std::vector<Shape>& in, const Graph&) {
  require_rank(n, in[0], 4, "LRN");
  const int64_t size = n.get_int("size", 0);
  if (size <= 0 || size % 2 == 0)
    unsupported(n,
                "size " + std::to_string(size) + ": the engine's LRN window is odd and centered");
  ImportedLayer l = make_layer(n, "LRN", {n.inputs[0]}, {n.outputs[0]});
  l.spec.set("local_size", double(size));
  l.spec.set("alpha", double(n.get_float("alpha", 1e-4f)));
  l.spec.set("beta", double(n.get_float("beta", 0.75f)));
  l.spec.set("k", double(n.get_float("bias", 1.f)));
  return {l};
}

std::vector<ImportedLayer> batchnorm(const Node& n, const std::vector<Shape>& in, const Graph& g,
                                     int64_t opset) {
  if (in[0].size() < 2) unsupported(n, "input " + shape_str(in[0]) + " has no channel axis");
  if (n.get_int("training_mode", 0) != 0)
    unsupported(n, "training_mode=1: batch statistics and running-mean outputs are not imported");
  if (opset < 7 && n.get_int("is_test", 0) == 0)
    unsupported(n, "is_test=0 (opset " + std::to_string(opset) +
                       "): training-mode normalisation with batch statistics");
  if (opset < 9 && n.get_int("spatial", 1) == 0)
    unsupported(n, "spatial=0 (per-element statistics): the engine's BatchNorm is per channel");
  require_outputs(n, 1, "training outputs (running mean / variance) are not imported");
  const Tensor& scale = constant_input(n, 1, g, "scale");
  const Tensor& bias = constant_input(n, 2, g, "B");
  const Tensor& mean = constant_input(n, 3, g, "mean");
  const Tensor& var = constant_input(n, 4, g, "var");
  const int64_t C = in[0][1];
  for (const Tensor* t : {&scale, &bias, &mean, &var})
    if (t->numel() != C)
      unsupported(n, "'" + t->name + "' has " + std::to_string(t->numel()) + " values for " +
                         std::to_string(C) + " channels");
  const std::string mid = n.outputs[0] + "/bn";
  ImportedLayer bn = make_layer(n, "BatchNorm", {n.inputs[0]}, {mid});
  bn.spec.set("use_global_stats", std::string("true"));
  bn.spec.set("eps", double(n.get_float("epsilon", 1e-5f)));
  // Caffe's state: sums of means and variances and their count (1: the values themselves).
  bn.params = {mean, var, Tensor::from_floats("count", {1}, {1.f})};
  ImportedLayer sc = make_layer(n, "Scale", {mid}, {n.outputs[0]}, "/scale");
  sc.params = {scale, bias};
  return {bn, sc};
}

// A reshape of `from` to `dims`: the engine's Flatten when dims keeps a leading block of
// `from` and collapses the rest into one axis (Flatten(axis a): [d0 .. d(a-1), prod(rest)]),
// else the engine's Reshape layer type.
std::vector<ImportedLayer> reshape_to(const Node& n, const std::string& in, const std::string& out,
                                      const Shape& from, const std::vector<int64_t>& dims,
                                      const std::string& why, const std::string& suffix = "") {
  const std::size_t a = dims.empty() ? 0 : dims.size() - 1;
  bool flatten = !dims.empty() && a < from.size();
  int64_t rest = 1;
  for (std::size_t i = 0; flatten && i < from.size(); ++i) {
    if (i < a)
      flatten = dims[i] == from[i];
    else
      rest *= from[i];
  }
  if (flatten && dims[a] == rest) {
    ImportedLayer l = make_layer(n, "Flatten", {in}, {out}, suffix);
    l.spec.set("axis", double(a));
    return {l};
  }
  if (!engine_has("Reshape"))
    unsupported(n, why + " needs a reshape to " + ints_str(dims) +
                       ", and the engine has no Reshape layer type");
  // Caffe's ReshapeParameter: 0 copies the input's dimension, -1 is inferred. The first
  // dimension is written that way so that an imported Net works at any batch size: 0 when it
  // is the input's (batch) dimension, else -1 (it absorbs the batch).
  // A size of zero (ONNX's allowzero, or a copied empty axis) is written literally, with
  // allowzero: true, and the whole shape is then fixed (-1 cannot be inferred next to a zero).
  ImportedLayer l = make_layer(n, "Reshape", {in}, {out}, suffix);
  std::vector<double> d(dims.begin(), dims.end());
  if (std::find(dims.begin(), dims.end(), 0) != dims.end())
    l.spec.set("allowzero", std::string("true"));
  else if (!d.empty() && !from.empty())
    d[0] = dims[0] == from[0] ? 0 : -1;
  l.spec.set("shape", d);
  return {l};
}

std::vector<ImportedLayer> flatten(const Node& n, const std::vector<Shape>& in, const Graph&) {
  const Shape& s = in[0];
  const int axis = canonical_axis(n, n.get_int("axis", 1), s.size(), "axis", true);
  if (axis == 1 && s.size() >= 2) {
    ImportedLayer l = make_layer(n, "Flatten", {n.inputs[0]}, {n.outputs[0]});
    l.spec.set("axis", 1.0);
    return {l};
  }
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < int(s.size()); ++i) (i < axis ? outer : inner) *= s[i];
  return reshape_to(n, n.inputs[0], n.outputs[0], s, {outer, inner},
                    "axis " + std::to_string(axis) + " on " + shape_str(s) +
                        " (the engine's Flatten keeps the leading axes)");
}

std::vector<ImportedLayer> reshape(const Node& n, const std::vector<Shape>& in, const Graph& g,
                                   int64_t opset) {
  std::vector<int64_t> dims;
  if (opset < 5) {  // Reshape-1: the shape is an attribute
    dims = n.get_ints("shape", {});
  } else {
    const Tensor& shape = constant_input(n, 1, g, "shape");
    dims = shape.int_data;
    if (dims.empty() && shape.numel() > 0) dims.assign(shape.data.begin(), shape.data.end());
  }
  // Resolve 0 (copy) and -1 (infer) here, so that the engine sees plain sizes.
  const bool allowzero = n.get_int("allowzero", 0) != 0;
  int64_t known = 1, infer = -1, total = 1;
  for (int d : in[0]) total *= d;  // a blob's shape: at most Blob::element_limit() elements
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 0 && !allowzero) {
      if (i >= in[0].size())
        unsupported(n, "shape " + ints_str(dims) + ": 0 beyond the input rank");
      dims[i] = in[0][i];
    }
    if (dims[i] == -1) {
      if (infer >= 0) unsupported(n, "shape " + ints_str(dims) + " has two -1");
      infer = static_cast<int64_t>(i);
    } else {
      if (dims[i] < 0 || dims[i] > checked::kMaxDim)
        unsupported(n, "shape " + ints_str(dims) + ": size " + std::to_string(dims[i]) +
                           " is not in -1.." + std::to_string(checked::kMaxDim));
      const std::optional<int64_t> k = checked::mul(known, dims[i]);
      if (!k || *k > total)
        unsupported(n, "shape " + ints_str(dims) + " holds more than the " +
                           std::to_string(total) + " elements of " + shape_str(in[0]));
      known = *k;
    }
  }
  if (infer >= 0) dims[infer] = known ? total / known : 0;
  const std::optional<int64_t> count = checked::product(dims, checked::kMaxElements);
  if (!count || *count != total)
    unsupported(n, "shape " + ints_str(dims) + " does not hold the " + std::to_string(total) +
                       " elements of " + shape_str(in[0]));
  return reshape_to(n, n.inputs[0], n.outputs[0], in[0], dims, "Reshape");
}

// 1-D Conv, MaxPool and AveragePool ([N, C, L] input) as the engine's 2-D layers on an
// [N, C, 1, L] view: Reshape to the view, the node with its attributes lifted to 2-D (a leading
// 1 in kernel_shape, strides and dilations, zero pads on the new axis), Reshape back to
// [N, K, L'] (shape [0, 0, -1]).
template <class Translate>
std::vector<ImportedLayer> as_2d(const Node& n, const std::vector<Shape>& in, Translate translate) {
  const Shape& x = in[0];
  const std::string view = n.outputs[0] + "/2d_in", out2d = n.outputs[0] + "/2d_out";
  std::vector<ImportedLayer> ls = reshape_to(n, n.inputs[0], view, x, {x[0], x[1], 1, x[2]},
                                             "1-D " + n.op_type + " as 2-D", "/to_2d");
  Node m = n;
  m.inputs[0] = view;
  m.outputs[0] = out2d;
  for (Attribute& a : m.attributes) {
    const bool per_axis = a.name == "kernel_shape" || a.name == "strides" || a.name == "dilations";
    if (per_axis && a.ints.size() == 1) a.ints.insert(a.ints.begin(), 1);
    if (a.name == "pads" && a.ints.size() == 2) a.ints = {0, a.ints[0], 0, a.ints[1]};
  }
  std::vector<Shape> in2 = in;
  in2[0] = {x[0], x[1], 1, x[2]};
  for (ImportedLayer& l : translate(m, in2)) ls.push_back(std::move(l));
  ImportedLayer back = make_layer(n, "Reshape", {out2d}, {n.outputs[0]}, "/to_1d");
  back.spec.set("shape", std::vector<double>{0, 0, -1});
  ls.push_back(std::move(back));
  return ls;
}

std::vector<ImportedLayer> softmax(const Node& n, const std::vector<Shape>& in, const Graph&,
                                   int64_t opset) {
  const Shape& s = in[0];
  const int64_t def = opset >= 13 ? -1 : 1;
  const int axis = canonical_axis(n, n.get_int("axis", def), s.size(), "axis");
  // opset >= 13: softmax along `axis`. Before: over the flattened [axis, end) block.
  int64_t outer = 1, mid = 1, inner = 1;
  for (int i = 0; i < int(s.size()); ++i) {
    if (i < axis)
      outer *= s[i];
    else if (i == axis || opset < 13)
      mid *= s[i];
    else
      inner *= s[i];
  }
  const bool direct = s.size() >= 2 && axis == 1 && (opset >= 13 || s.size() == 2);
  if (direct) return {make_layer(n, "Softmax", {n.inputs[0]}, {n.outputs[0]})};
  // Otherwise as the engine's channel softmax on a [outer, mid, inner] view.
  const std::string a = n.outputs[0] + "/in", b = n.outputs[0] + "/out";
  std::vector<ImportedLayer> ls =
      reshape_to(n, n.inputs[0], a, s, {outer, mid, inner},
                 "softmax over axis " + std::to_string(axis) + " of " + shape_str(s) +
                     " (the engine's Softmax runs over axis 1)",
                 "/view");
  ls.push_back(make_layer(n, "Softmax", {a}, {b}));
  std::vector<int64_t> back(s.begin(), s.end());
  const Shape view = {int(outer), int(mid), int(inner)};
  auto r = reshape_to(n, b, n.outputs[0], view, back, "softmax", "/back");
  ls.push_back(r[0]);
  return ls;
}

std::vector<ImportedLayer> dropout(const Node& n, const std::vector<Shape>&, const Graph& g,
                                   int64_t opset) {
  require_outputs(n, 1, "the engine's Dropout has no mask output");
  float ratio = n.get_float("ratio", 0.5f);
  if (opset >= 12 && present(n, 1)) {
    const Tensor& r = constant_input(n, 1, g, "ratio");
    ratio = r.data.at(0);
  }
  if (present(n, 2)) {
    const Tensor& t = constant_input(n, 2, g, "training_mode");
    if (t.data.at(0) != 0)
      unsupported(n,
                  "training_mode=true: a random mask (the engine's counter-based dropout "
                  "stream is not ONNX's)");
  }
  if (opset < 7 && n.get_int("is_test", 0) == 0)
    unsupported(n, "is_test=0 (training dropout in opset " + std::to_string(opset) + ")");
  if (!(ratio >= 0.f && ratio < 1.f)) unsupported(n, "ratio " + std::to_string(ratio));
  ImportedLayer l = make_layer(n, "Dropout", {n.inputs[0]}, {n.outputs[0]});
  l.spec.set("dropout_ratio", double(ratio));
  return {l};
}

std::vector<ImportedLayer> add(const Node& n, const std::vector<Shape>& in, const Graph& g) {
  require_float(n, in, g);
  if (in[0] != in[1])
    unsupported(n, "broadcasting " + shape_str(in[0]) + " + " + shape_str(in[1]) +
                       ": the engine's Eltwise adds equal shapes");
  ImportedLayer l = make_layer(n, "Eltwise", {n.inputs[0], n.inputs[1]}, {n.outputs[0]});
  for (int i = 0; i < 2; ++i)
    if (g.find_initializer(n.inputs[i])) l.constant_bottoms.push_back(n.inputs[i]);
  return {l};
}

std::vector<ImportedLayer> concat(const Node& n, const std::vector<Shape>& in, const Graph& g) {
  const int axis = canonical_axis(n, n.get_int("axis", 1), in[0].size(), "axis");
  ImportedLayer l = make_layer(n, "Concat", n.inputs, {n.outputs[0]});
  l.spec.set("axis", double(axis));
  for (const auto& s : n.inputs)
    if (g.find_initializer(s)) l.constant_bottoms.push_back(s);
  return {l};
}

Tensor to_tensor(const std::string& name, const engine::Blob& b) {
  std::vector<int64_t> dims(b.shape().begin(), b.shape().end());
  return Tensor::from_floats(name, dims, std::vector<float>(b.data(), b.data() + b.count()));
}

}  // namespace

namespace {
// Constant -> initializer (value, value_float(s), value_int(s)); false for other forms.
bool fold_constant_node(const Node& n, Graph& g) {
  if (n.outputs.size() != 1) return false;
  Tensor t;
  if (const Attribute* a = n.find("value"); a && a->type == AttrType::kTensor) {
    t = a->t;
  } else if (const Attribute* f = n.find("value_float")) {
    t = Tensor::from_floats("", {}, {f->f});
  } else if (const Attribute* fs = n.find("value_floats")) {
    t = Tensor::from_floats("", {int64_t(fs->floats.size())}, fs->floats);
  } else if (const Attribute* i = n.find("value_int")) {
    t = Tensor::from_int64s("", {}, {i->i});
  } else if (const Attribute* is = n.find("value_ints")) {
    t = Tensor::from_int64s("", {int64_t(is->ints.size())}, is->ints);
  } else {
    return false;
  }
  t.name = n.outputs[0];
  g.initializers.push_back(std::move(t));
  return true;
}
}  // namespace

namespace {
// ristsim's own quantized exports (onnx_export.h): each layer's input and output quantization
// (QuantizeLinear -> DequantizeLinear [-> Clip], or QONNX Quant / FloatQuant) and QONNX's Quant
// after the weights (on the grid already) become identities. The formats come back through
// the arch (the model's ristsim.arch metadata, --arch), as the engine quantizes by an arch.
// The chain's output keeps its name: the node that produced its input writes it instead.
int strip_fake_quantization(Graph& g) {
  auto is_qonnx = [](const Node& n) {
    return n.domain == "qonnx.custom_op.general" && (n.op_type == "Quant" || n.op_type == "FloatQuant");
  };
  auto is_default = [](const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; };
  auto is_output = [&](const std::string& v) {
    for (const ValueInfo& o : g.outputs)
      if (o.name == v) return true;
    return false;
  };
  std::set<std::string> dq_out;  // outputs of stripped DequantizeLinear (a Clip may follow)
  std::vector<bool> gone(g.nodes.size(), false);
  int stripped = 0;
  for (std::size_t k = 0; k < g.nodes.size(); ++k) {
    const Node& n = g.nodes[k];
    const bool strip =
        n.outputs.size() == 1 && !n.inputs.empty() &&
        (is_qonnx(n) ||
         (is_default(n) && (n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear")) ||
         (is_default(n) && n.op_type == "Clip" && dq_out.count(n.inputs[0])));
    if (!strip) continue;
    gone[k] = true;
    ++stripped;
    const std::string x = n.inputs[0], y = n.outputs[0];
    bool produced = false;
    for (std::size_t j = 0; j < k; ++j)
      if (!gone[j])
        for (const std::string& o : g.nodes[j].outputs) produced |= o == x;
    // One value where there were two: x renamed y everywhere (its producer then writes y, so
    // a graph output keeps its name), or, for a graph input or initializer, y renamed x.
    const bool rename_x = produced && !is_output(x);
    const std::string from = rename_x ? x : y, to = rename_x ? y : x;
    for (std::size_t j = 0; j < g.nodes.size(); ++j) {
      if (j == k) continue;
      for (std::string& i : g.nodes[j].inputs)
        if (i == from) i = to;
      if (rename_x)
        for (std::string& o : g.nodes[j].outputs)
          if (o == from) o = to;
    }
    if (n.op_type == "DequantizeLinear" || n.op_type == "Clip" || dq_out.count(from))
      dq_out.insert(to);
  }
  std::vector<Node> kept;
  for (std::size_t k = 0; k < g.nodes.size(); ++k)
    if (!gone[k]) kept.push_back(std::move(g.nodes[k]));
  g.nodes = std::move(kept);
  return stripped;
}
}  // namespace

int fold_constants(Model& m) {
  Graph& g = m.graph;
  int folded = 0;
  std::vector<Node> kept;
  for (const Node& n : g.nodes) {
    const bool default_domain = n.domain.empty() || n.domain == "ai.onnx";
    if (default_domain && n.op_type == "Constant" && fold_constant_node(n, g)) {
      ++folded;
      continue;
    }
    const bool dq = n.op_type == "DequantizeLinear" && default_domain;
    bool all_const = dq && n.outputs.size() == 1;
    for (const std::string& in : n.inputs) all_const &= in.empty() || g.find_initializer(in);
    if (!all_const || n.inputs.size() < 2) {
      kept.push_back(n);
      continue;
    }
    const Tensor& x = *g.find_initializer(n.inputs[0]);
    const Tensor& scale = *g.find_initializer(n.inputs[1]);
    const Tensor* zp = present(n, 2) ? g.find_initializer(n.inputs[2]) : nullptr;
    const int64_t axis_attr = n.get_int("axis", 1);
    // Per tensor (scalar scale) or per axis (1-D scale along `axis`).
    const bool per_axis = scale.numel() > 1;
    int64_t axis = axis_attr < 0 ? axis_attr + int64_t(x.dims.size()) : axis_attr;
    if (per_axis && (axis < 0 || axis >= int64_t(x.dims.size()) || x.dims[axis] != scale.numel()))
      throw ModelError(n.describe() + ": scale of " + std::to_string(scale.numel()) +
                       " values does not fit axis " + std::to_string(axis_attr) + " of " +
                       ints_str(x.dims));
    int64_t inner = 1;
    if (per_axis)
      for (std::size_t d = axis + 1; d < x.dims.size(); ++d) inner *= x.dims[d];
    Tensor y = Tensor::from_floats(n.outputs[0], x.dims, std::vector<float>(x.data.size()));
    for (std::size_t i = 0; i < x.data.size(); ++i) {
      const std::size_t c = per_axis ? (i / inner) % scale.numel() : 0;
      if (!is_integer_type(x.type)) {  // float8 codes: their values, times the scale
        const float z = zp ? zp->data[zp->numel() > 1 ? c : 0] : 0.f;
        y.data[i] = (x.data[i] - z) * scale.data[c];
        continue;
      }
      const int64_t q = x.int_data.empty() ? int64_t(x.data[i]) : x.int_data[i];
      const int64_t z = zp ? (zp->int_data.empty() ? int64_t(zp->data[zp->numel() > 1 ? c : 0])
                                                   : zp->int_data[zp->numel() > 1 ? c : 0])
                           : 0;
      // float(q - z) * scale, as ONNX defines it: exact while |q - z| < 2^24 and the scale is a
      // power of two (ristsim's fixed-point exports); wider codes round like any runtime.
      y.data[i] = static_cast<float>(q - z) * scale.data[c];
    }
    g.initializers.push_back(std::move(y));
    ++folded;
  }
  g.nodes = std::move(kept);
  if (m.producer_name == "ristsim") folded += strip_fake_quantization(g);
  return folded;
}

const std::vector<std::string>& importable_ops() {
  static const std::vector<std::string> ops = {"Conv",
                                               "Gemm",
                                               "MatMul",
                                               "Relu",
                                               "MaxPool",
                                               "AveragePool",
                                               "GlobalAveragePool",
                                               "LRN",
                                               "BatchNormalization",
                                               "Concat",
                                               "Add",
                                               "Flatten",
                                               "Reshape",
                                               "Softmax",
                                               "Dropout"};
  return ops;
}

std::vector<int> constant_input_slots(const std::string& op) {
  if (op == "Conv") return {1, 2};
  if (op == "Gemm") return {1, 2};
  if (op == "MatMul") return {1};
  if (op == "BatchNormalization") return {1, 2, 3, 4};
  if (op == "Reshape") return {1};
  if (op == "Dropout") return {1, 2};
  return {};
}

std::vector<ImportedLayer> translate_node(const Node& n, const std::vector<Shape>& in,
                                          const Graph& g, int64_t opset) {
  if (!n.domain.empty() && n.domain != "ai.onnx")
    unsupported(n, "domain '" + n.domain + "' is not the default ONNX domain");
  if (n.inputs.empty() || n.inputs[0].empty()) unsupported(n, "no data input");
  if (n.outputs.empty()) unsupported(n, "no output");
  const std::string& op = n.op_type;
  const bool one_d = !in.empty() && in[0].size() == 3;
  if (op == "Conv" && one_d)
    return as_2d(n, in, [&](const Node& m, const std::vector<Shape>& i) { return conv(m, i, g, true); });
  if ((op == "MaxPool" || op == "AveragePool") && one_d)
    return as_2d(n, in, [&](const Node& m, const std::vector<Shape>& i) { return pool(m, i, g); });
  if (op == "Conv") return conv(n, in, g);
  if (op == "Gemm" || op == "MatMul") return gemm(n, in, g);
  if (op == "Relu") {
    require_float(n, in, g);
    return {make_layer(n, "ReLU", {n.inputs[0]}, {n.outputs[0]})};
  }
  if (op == "MaxPool" || op == "AveragePool") return pool(n, in, g);
  if (op == "GlobalAveragePool") return global_pool(n, in, g);
  if (op == "LRN") return lrn(n, in, g);
  if (op == "BatchNormalization") return batchnorm(n, in, g, opset);
  if (op == "Concat") return concat(n, in, g);
  if (op == "Add") return add(n, in, g);
  if (op == "Flatten") return flatten(n, in, g);
  if (op == "Reshape") return reshape(n, in, g, opset);
  if (op == "Softmax") return softmax(n, in, g, opset);
  if (op == "Dropout") return dropout(n, in, g, opset);
  unsupported(n,
              "op type not importable (importable: Conv, Gemm, MatMul, Relu, MaxPool, "
              "AveragePool, GlobalAveragePool, LRN, BatchNormalization, Concat, Add, Flatten, "
              "Reshape, Softmax, Dropout)");
}

// ---- GraphRunner ---------------------------------------------------------------------------

struct GraphRunner::State {
  std::map<std::string, std::unique_ptr<engine::Blob>> blobs;
  std::vector<std::unique_ptr<engine::Blob>> replaced;  // older versions of reused names
  std::vector<std::unique_ptr<engine::Layer>> layers;
  std::vector<ImportedLayer> imported;
};

GraphRunner::GraphRunner(Model model) : model_(std::move(model)), state_(new State) {
  fold_constants(model_);
  validate_ops(model_, importable_ops());
}

GraphRunner::~GraphRunner() = default;

std::map<std::string, Tensor> GraphRunner::run(const std::map<std::string, Tensor>& inputs) {
  State& st = *state_;
  st = State{};
  const Graph& g = model_.graph;
  const std::string& src = model_.source.empty() ? std::string("<memory>") : model_.source;
  for (const ValueInfo* v : g.runtime_inputs()) {
    auto it = inputs.find(v->name);
    if (it == inputs.end()) throw ModelError(src + ": input '" + v->name + "' not given");
    const Tensor& t = it->second;
    if (t.type != DataType::kFloat)
      throw UnsupportedError(src + ": input '" + v->name + "' is " + data_type_name(t.type) +
                             ": the engine's layers compute in float32");
    std::vector<int> shape;
    for (int64_t d : t.dims) {
      const std::optional<int> s = checked::narrow<int>(d);
      if (!s || *s < 0)
        throw ModelError(src + ": input '" + v->name + "' has the dimension " + std::to_string(d));
      shape.push_back(*s);
    }
    std::unique_ptr<engine::Blob> b;
    try {
      b = std::make_unique<engine::Blob>(shape);
    } catch (const engine::BlobSizeError& e) {
      throw ModelError(src + ": input '" + v->name + "': " + e.what());
    }
    if (b->count() != t.data.size())
      throw ModelError(src + ": input '" + v->name + "' has " + std::to_string(t.data.size()) +
                       " values for the shape " + b->shape_string());
    std::copy(t.data.begin(), t.data.end(), b->data());
    st.blobs[v->name] = std::move(b);
  }
  const int64_t opset = model_.opset();
  for (std::size_t k = 0; k < g.nodes.size(); ++k) {
    const Node& n = g.nodes[k];
    std::vector<Shape> shapes;
    for (const std::string& in : n.inputs) {
      if (in.empty()) {
        shapes.emplace_back();
      } else if (auto it = st.blobs.find(in); it != st.blobs.end()) {
        shapes.push_back(it->second->shape());
      } else if (const Tensor* c = g.find_initializer(in)) {
        shapes.emplace_back(c->dims.begin(), c->dims.end());
      } else {
        throw ModelError(src + ": " + n.describe() + ": input '" + in +
                         "' is neither a graph input, an initializer nor an earlier output");
      }
    }
    for (ImportedLayer& il : translate_node(n, shapes, g, opset)) {
      std::unique_ptr<engine::Layer> layer;
      engine::Blobs bottoms, tops;
      try {
        layer = engine::create_layer(il.spec);
        layer->set_phase(engine::Phase::test);
        layer->set_index(static_cast<int>(st.layers.size()));
        for (const std::string& b : il.spec.bottoms) {
          auto it = st.blobs.find(b);
          if (it == st.blobs.end()) {
            const Tensor* c = g.find_initializer(b);
            if (!c) throw ModelError(src + ": " + n.describe() + ": no value '" + b + "'");
            auto blob =
                std::make_unique<engine::Blob>(std::vector<int>(c->dims.begin(), c->dims.end()));
            std::copy(c->data.begin(), c->data.end(), blob->data());
            it = st.blobs.emplace(b, std::move(blob)).first;
          }
          bottoms.push_back(it->second.get());
        }
        for (const std::string& t : il.spec.tops) {
          auto blob = std::make_unique<engine::Blob>();
          tops.push_back(blob.get());
          auto& slot = st.blobs[t];
          if (slot) st.replaced.push_back(std::move(slot));  // bottoms may still point at it
          slot = std::move(blob);
        }
        layer->setup(bottoms, tops);
        layer->spec().check_all_used();
        if (layer->params().size() != il.params.size())
          throw UnsupportedError(src + ": " + n.describe() + ": engine layer " + il.spec.type +
                                 " has " + std::to_string(layer->params().size()) +
                                 " parameter blobs, the import made " +
                                 std::to_string(il.params.size()));
        for (std::size_t i = 0; i < il.params.size(); ++i) {
          engine::Blob& pb = *layer->params()[i].blob;
          if (pb.count() != static_cast<std::size_t>(il.params[i].numel()))
            throw UnsupportedError(src + ": " + n.describe() + ": parameter " + std::to_string(i) +
                                   " of " + il.spec.type + " is " + pb.shape_string() +
                                   ", the ONNX tensor has " + std::to_string(il.params[i].numel()) +
                                   " values");
          std::copy(il.params[i].data.begin(), il.params[i].data.end(), pb.data());
        }
        layer->reshape(bottoms, tops);
        layer->forward(bottoms, tops);
      } catch (const engine::NetSpecError& e) {
        throw UnsupportedError(src + ": " + n.describe() + ": the engine rejects it: " + e.what());
      } catch (const engine::BlobSizeError& e) {
        throw UnsupportedError(src + ": " + n.describe() + ": " + e.what());
      }
      st.layers.push_back(std::move(layer));
      st.imported.push_back(std::move(il));
    }
  }
  std::map<std::string, Tensor> out;
  for (const ValueInfo& v : g.outputs) {
    auto it = st.blobs.find(v.name);
    if (it == st.blobs.end())
      throw ModelError(src + ": graph output '" + v.name + "' is not computed by any node");
    out[v.name] = to_tensor(v.name, *it->second);
  }
  return out;
}

const std::vector<ImportedLayer>& GraphRunner::imported_layers() const {
  return state_->imported;
}

std::vector<std::string> GraphRunner::layer_summary() const {
  std::vector<std::string> r;
  for (const auto& l : state_->layers) r.push_back(std::string(l->type()) + " '" + l->name() + "'");
  return r;
}

// ---- whole nets ----------------------------------------------------------------------------

ImportedNet import_net(const Model& model) {
  const std::string src = model.source.empty() ? std::string("<memory>") : model.source;
  Model folded = model;
  fold_constants(folded);
  validate_ops(folded, importable_ops());
  const auto ins = model.graph.runtime_inputs();
  if (ins.size() != 1)
    throw ModelError(src + ": " + std::to_string(ins.size()) +
                     " runtime inputs; an engine Net has one image input");
  if (model.graph.outputs.size() != 1)
    throw ModelError(src + ": " + std::to_string(model.graph.outputs.size()) +
                     " graph outputs; an engine Net has one output");
  const ValueInfo& x = *ins[0];
  if (!x.has_shape || x.shape.size() != 4 || x.shape[1] <= 0 || x.shape[2] <= 0 || x.shape[3] <= 0)
    throw ModelError(src + ": input '" + x.name +
                     "' needs a known shape [N, C, H, W] (N may be symbolic)");
  // Translate with real shapes by running the graph once on zeros (batch 1). One sample must
  // hold at most checked::kMaxFileElements values and fit one blob (checked before it is
  // allocated).
  const int64_t limit = std::min(checked::kMaxFileElements, engine::Blob::element_limit());
  const std::optional<int64_t> sample =
      checked::product(std::vector<int64_t>{x.shape[1], x.shape[2], x.shape[3]}, limit);
  if (!sample)
    throw ModelError(src + ": input '" + x.name + "' of shape " + ints_str(x.shape) +
                     " holds more than " + std::to_string(limit) + " values per sample");
  GraphRunner runner(folded);
  Tensor zeros = Tensor::from_floats(x.name, {1, x.shape[1], x.shape[2], x.shape[3]},
                                     std::vector<float>(static_cast<std::size_t>(*sample)));
  runner.run({{x.name, zeros}});
  ImportedNet net;
  net.spec.name = model.graph.name;
  net.spec.file = model.source;
  net.spec.input = x.name;
  net.spec.input_shape = {int(x.shape[1]), int(x.shape[2]), int(x.shape[3])};
  net.spec.output = model.graph.outputs[0].name;
  const auto& oshape = model.graph.outputs[0].shape;
  if (oshape.size() >= 2 && oshape[1] > 0) net.spec.classes = static_cast<int>(oshape[1]);
  for (const ImportedLayer& il : runner.imported_layers()) {
    if (!il.constant_bottoms.empty())
      throw UnsupportedError(src + ": layer '" + il.spec.name + "' reads the constant tensor '" +
                             il.constant_bottoms[0] +
                             "' as data; an engine Net has no constant blobs");
    net.spec.layers.push_back(il.spec);
    if (!il.params.empty()) net.params[il.spec.name] = il.params;
  }
  return net;
}

std::unique_ptr<engine::Net> build_net(const ImportedNet& imported,
                                       const engine::NetOptions& options) {
  auto net = std::make_unique<engine::Net>(imported.spec, options);
  for (const auto& [name, tensors] : imported.params) {
    engine::Layer* l = net->layer(name);
    if (!l) throw ModelError(imported.spec.file + ": layer '" + name + "' missing in the Net");
    if (l->params().size() != tensors.size())
      throw ModelError(imported.spec.file + ": layer '" + name + "' has " +
                       std::to_string(l->params().size()) + " parameter blobs, the import " +
                       std::to_string(tensors.size()));
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      engine::Blob& b = *l->params()[i].blob;
      if (b.count() != tensors[i].data.size())
        throw ModelError(imported.spec.file + ": layer '" + name + "' parameter " +
                         std::to_string(i) + " is " + b.shape_string() + ", the ONNX tensor '" +
                         tensors[i].name + "' has " + std::to_string(tensors[i].data.size()) +
                         " values");
      std::copy(tensors[i].data.begin(), tensors[i].data.end(), b.data());
    }
  }
  return net;
}

}  // namespace ristsim::io
