// Engine Net -> ONNX graph IR (see onnx_export.h for the layer table).
#include "io/onnx_export.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "config/describe.h"
#include "engine/layers.h"
#include "engine/quant.h"
#include "io/onnx.h"
#include "numeric/quantize.h"

namespace ristsim::io {

namespace {

using engine::Blob;
using engine::Layer;

[[noreturn]] void fail(const Layer& l, const std::string& why) {
  throw ModelError("ONNX export: layer '" + l.name() + "' (" + l.type() + "): " + why);
}

std::vector<int64_t> dims_of(const Blob& b) {
  return std::vector<int64_t>(b.shape().begin(), b.shape().end());
}

Tensor tensor_of(const std::string& name, std::vector<int64_t> dims, const Blob& b) {
  return Tensor::from_floats(name, std::move(dims),
                             std::vector<float>(b.data(), b.data() + b.count()));
}

std::string format_string(const numeric::Quantizer& q) {
  return config::format_name(q.format) + " round=" + numeric::to_string(q.rounding) +
         " overflow=" + numeric::to_string(q.overflow);
}

class Exporter {
 public:
  Exporter(engine::Net& net, const ExportOptions& opt) : net_(net), opt_(opt) {}

  Model run() {
    Model m;
    m.producer_name = "ristsim";
    m.graph.name = opt_.graph_name.empty() ? net_.spec().name : opt_.graph_name;
    if (m.graph.name.empty()) m.graph.name = "ristsim";
    for (const auto& [k, v] : opt_.metadata) m.metadata[k] = v;
    g_ = &m.graph;
    meta_ = &m.metadata;

    const Blob& in = net_.input();
    const std::string in_name = net_.spec().input.empty() ? "data" : net_.spec().input;
    names_[&in] = unique(in_name);
    ValueInfo vi;
    vi.name = names_[&in];
    vi.shape = dims_of(in);
    vi.dim_params.assign(vi.shape.size(), "");
    vi.shape[0] = -1;
    vi.dim_params[0] = "N";
    g_->inputs.push_back(vi);

    for (int i = 0; i < net_.num_layers(); ++i) i = layer(i);

    const Blob& out = net_.output();
    auto it = names_.find(&out);
    if (it == names_.end()) throw ModelError("ONNX export: the net's output blob has no producer");
    ValueInfo vo;
    vo.name = it->second;
    vo.shape = dims_of(out);
    vo.dim_params.assign(vo.shape.size(), "");
    vo.shape[0] = -1;
    vo.dim_params[0] = "N";
    g_->outputs.push_back(vo);
    return m;
  }

 private:
  // A value name (graph inputs and outputs, initializers, node outputs) not used yet. Node
  // names are a namespace of their own in ONNX (unique_node), so a Conv node keeps its layer's
  // name even though its output value has the same one, and the import gets the layer names
  // back.
  std::string unique(const std::string& want) { return unique_in(want, &used_); }
  std::string unique_node(const std::string& want) { return unique_in(want, &used_nodes_); }
  static std::string unique_in(const std::string& want, std::set<std::string>* used) {
    std::string n = want.empty() ? "v" : want;
    for (int k = 1; used->count(n); ++k) n = want + "_" + std::to_string(k);
    used->insert(n);
    return n;
  }

  const std::string& value(const Layer& l, const Blob* b) {
    auto it = names_.find(b);
    if (it == names_.end()) fail(l, "reads a blob that no exported layer produced");
    return it->second;
  }

  // Names the top blobs of layer i after its description's tops.
  std::string name_top(int i, int t) {
    const Layer& l = net_.layer(i);
    const auto& tops = l.spec().tops;
    std::string n = unique(t < int(tops.size()) ? tops[t] : l.name() + "_" + std::to_string(t));
    names_[net_.tops(i)[t]] = n;
    return n;
  }

  Node node(const Layer& l, const std::string& op, std::vector<std::string> ins,
            std::vector<std::string> outs, const std::string& suffix = "") {
    Node n;
    n.op_type = op;
    n.name = unique_node(l.name() + suffix);
    n.inputs = std::move(ins);
    n.outputs = std::move(outs);
    return n;
  }

  std::string initializer(Tensor t) {
    t.name = unique(t.name);
    const std::string n = t.name;
    g_->initializers.push_back(std::move(t));
    return n;
  }

  // A parameter as an initializer: float, or on its format's grid (quantized export), and for
  // integer fixed point as codes + DequantizeLinear. Returns the value name to feed the node.
  std::string param(const Layer& l, const std::string& name, std::vector<int64_t> dims,
                    const Blob& b, const numeric::Quantizer* q, uint64_t stream) {
    if (!q) return initializer(tensor_of(name, std::move(dims), b));
    if (q->rounding == numeric::Rounding::stochastic)
      fail(l, "stochastic rounding of " + name +
                  " at inference cannot be exported (its bits "
                  "depend on the arch seed and stream)");
    numeric::Quantizer qq = *q;
    qq.seed = opt_arch_seed();
    qq.stream = stream;
    const std::size_t n = b.count();
    std::vector<float> grid(n);
    std::vector<int64_t> codes(n);
    for (std::size_t i = 0; i < n; ++i) {
      const numeric::Quantized r = numeric::quantize(qq, double(b.data()[i]), i);
      grid[i] = static_cast<float>(r.value);
      // The integer of a fixed-point code (two's complement sign-extended, or unsigned).
      codes[i] = qq.format.kind == numeric::FormatKind::fixed
                     ? numeric::fixed_integer(qq.format, r.code)
                     : static_cast<int64_t>(r.code);
    }
    const std::string fmt = format_string(qq);
    (*meta_)["ristsim.format." + name] = fmt;
    const numeric::Format& f = qq.format;
    if (opt_.qdq && f.kind == numeric::FormatKind::fixed && f.bits <= 32 && f.fl >= -126 &&
        f.fl <= 126) {
      Tensor c;
      c.name = name + ".codes";
      c.dims = dims;
      c.type = f.bits <= (f.is_signed ? 8 : 7) ? DataType::kInt8 : DataType::kInt32;
      c.int_data = codes;
      c.data.assign(codes.begin(), codes.end());
      c.doc_string = "ristsim format " + fmt + "; value = code * 2^-" + std::to_string(f.fl);
      const std::string cn = initializer(std::move(c));
      const std::string sn =
          initializer(Tensor::from_floats(name + ".scale", {}, {std::ldexp(1.f, -f.fl)}));
      Tensor zp;
      zp.name = name + ".zero_point";
      zp.type = f.bits <= 8 ? DataType::kInt8 : DataType::kInt32;
      zp.int_data = {0};
      zp.data = {0.f};
      const std::string zn = initializer(std::move(zp));
      const std::string out = unique(name);
      g_->nodes.push_back(node(l, "DequantizeLinear", {cn, sn, zn}, {out}, "/dq_" + name));
      return out;
    }
    Tensor t = Tensor::from_floats(name, std::move(dims), std::move(grid));
    t.doc_string = "ristsim format " + fmt + " (values on the grid)";
    return initializer(std::move(t));
  }

  uint64_t opt_arch_seed() const { return arch_seed_; }

  // Exports layer i; returns the index of the last layer consumed (BatchNorm + Scale).
  int layer(int i) {
    Layer& l = net_.layer(i);
    const std::string type = l.type();
    const auto& bottoms = net_.bottoms(i);
    const auto& tops = net_.tops(i);
    if (type == "Split" || type == "Dropout") {
      for (Blob* t : tops) names_[t] = value(l, bottoms[0]);
      return i;
    }
    if (type == "SoftmaxWithLoss") return i;  // training head; the output is its bottom
    const std::string x = value(l, bottoms[0]);

    if (type == "Convolution" || type == "InnerProduct") {
      auto& wl = dynamic_cast<engine::WeightedLayer&>(l);
      const engine::ConvGeometry& g = wl.geometry();
      const engine::LayerQuant* lq = opt_.quantized ? wl.quant() : nullptr;
      const numeric::Quantizer* qw = nullptr;
      const numeric::Quantizer* qb = nullptr;
      std::string layer_doc;  // the formats, on the Conv / Gemm node
      if (lq) {
        if (!lq->formats().weights.is_float) qw = &lq->formats().weights.quantizer;
        // The float datapath quantizes the bias in the weights' format (Ristretto).
        const bool exact = datapath_exact_;
        const auto& bs = exact ? lq->formats().bias : lq->formats().weights;
        if (!bs.is_float) qb = &bs.quantizer;
        record_activation_formats(l, *lq);
        auto group = [](const config::NumberSpec& g) {
          return g.is_float ? std::string("float32") : format_string(g.quantizer);
        };
        layer_doc = std::string("ristsim ") + (exact ? "exact" : "float") + " datapath; input " +
                    group(lq->formats().activations) + "; weights " + group(lq->formats().weights) +
                    "; bias " + group(bs) + "; output " + group(lq->formats().outputs);
      }
      const uint64_t base = static_cast<uint64_t>(l.index()) * 4;
      std::vector<int64_t> wdims = dims_of(wl.weights());
      if (type == "InnerProduct") wdims = {g.k, g.c};
      const std::string w = param(l, l.name() + ".W", wdims, wl.weights(), qw, base + 1);
      std::vector<std::string> ins = {x, w};
      if (wl.bias()) ins.push_back(param(l, l.name() + ".B", {g.k}, *wl.bias(), qb, base + 2));
      const bool qdq_in = lq && opt_.qdq_activations && qdq_exact(lq->formats().activations);
      const bool qdq_out = lq && opt_.qdq_activations && qdq_exact(lq->formats().outputs);
      if (qdq_in) ins[0] = qdq(l, ins[0], lq->formats().activations, "input");
      const std::string y_final = name_top(i, 0);
      const std::string y = qdq_out ? unique(y_final + "_acc") : y_final;
      if (type == "Convolution") {
        Node n = node(l, "Conv", ins, {y});
        n.attributes = {Attribute::make_ints("kernel_shape", {g.kh, g.kw}),
                        Attribute::make_ints("strides", {g.stride_h, g.stride_w}),
                        Attribute::make_ints("pads", {g.pad_h, g.pad_w, g.pad_h, g.pad_w}),
                        Attribute::make_ints("dilations", {g.dil_h, g.dil_w}),
                        Attribute::make_int("group", g.groups)};
        n.doc_string = layer_doc;
        g_->nodes.push_back(n);
      } else {
        if (bottoms[0]->num_axes() != 2) {
          const std::string flat = unique(x + "_flat");
          Node f = node(l, "Flatten", {ins[0]}, {flat}, "/flatten");
          f.attributes = {Attribute::make_int("axis", 1)};
          g_->nodes.push_back(f);
          ins[0] = flat;
        }
        Node n = node(l, "Gemm", ins, {y});
        n.attributes = {Attribute::make_int("transB", 1)};
        n.doc_string = layer_doc;
        g_->nodes.push_back(n);
      }
      if (qdq_out) qdq(l, y, lq->formats().outputs, "output", y_final);
      return i;
    }
    if (type == "ReLU") {
      const double slope = l.spec().get_double("negative_slope", 0.0);
      Node n = node(l, slope == 0 ? "Relu" : "LeakyRelu", {x}, {name_top(i, 0)});
      if (slope != 0) n.attributes = {Attribute::make_float("alpha", float(slope))};
      g_->nodes.push_back(n);
      return i;
    }
    if (type == "Pooling") {
      pooling(i, l, x);
      return i;
    }
    if (type == "LRN") {
      Node n = node(l, "LRN", {x}, {name_top(i, 0)});
      n.attributes = {Attribute::make_int("size", l.spec().get_int("local_size", 5)),
                      Attribute::make_float("alpha", float(l.spec().get_double("alpha", 1.0))),
                      Attribute::make_float("beta", float(l.spec().get_double("beta", 0.75))),
                      Attribute::make_float("bias", float(l.spec().get_double("k", 1.0)))};
      g_->nodes.push_back(n);
      return i;
    }
    if (type == "BatchNorm") return batchnorm(i, l, x);
    if (type == "Scale") fail(l, "a Scale layer is exported only right after a BatchNorm");
    if (type == "Concat") {
      std::vector<std::string> ins;
      for (Blob* b : bottoms) ins.push_back(value(l, b));
      Node n = node(l, "Concat", ins, {name_top(i, 0)});
      n.attributes = {
          Attribute::make_int("axis", bottoms[0]->canonical_axis(l.spec().get_int("axis", 1)))};
      g_->nodes.push_back(n);
      return i;
    }
    if (type == "Eltwise") {
      for (double c : l.spec().get_list("coeff", {}))
        if (c != 1.0) fail(l, "Eltwise coefficients other than 1 are not exported");
      std::string acc = x;
      for (std::size_t k = 1; k < bottoms.size(); ++k) {
        const bool last = k + 1 == bottoms.size();
        const std::string out =
            last ? name_top(i, 0) : unique(l.name() + "_sum" + std::to_string(k));
        g_->nodes.push_back(node(l, "Add", {acc, value(l, bottoms[k])}, {out},
                                 last ? "" : "/add" + std::to_string(k)));
        acc = out;
      }
      return i;
    }
    if (type == "Flatten") {
      const int axis = bottoms[0]->canonical_axis(l.spec().get_int("axis", 1));
      if (axis == 1) {
        Node n = node(l, "Flatten", {x}, {name_top(i, 0)});
        n.attributes = {Attribute::make_int("axis", 1)};
        g_->nodes.push_back(n);
      } else {
        std::vector<int64_t> shape(axis, 0);  // 0: copy the input's dimension
        shape.push_back(-1);
        const std::string s =
            initializer(Tensor::from_int64s(l.name() + ".shape", {int64_t(shape.size())}, shape));
        g_->nodes.push_back(node(l, "Reshape", {x, s}, {name_top(i, 0)}));
      }
      return i;
    }
    if (type == "Reshape") {  // the engine's shape rules are ONNX's (0 copies, -1 is inferred)
      const std::vector<double> d = l.spec().get_list("shape", {});
      if (l.spec().get_bool("allowzero", false) && std::count(d.begin(), d.end(), 0.0))
        fail(l, "allowzero with a size of zero needs ONNX opset 14; the export writes opset 13");
      const std::vector<int64_t> shape(d.begin(), d.end());
      const std::string s =
          initializer(Tensor::from_int64s(l.name() + ".shape", {int64_t(shape.size())}, shape));
      g_->nodes.push_back(node(l, "Reshape", {x, s}, {name_top(i, 0)}));
      return i;
    }
    if (type == "Softmax") {
      Node n = node(l, "Softmax", {x}, {name_top(i, 0)});
      n.attributes = {Attribute::make_int("axis", 1)};
      g_->nodes.push_back(n);
      return i;
    }
    fail(l, "no ONNX mapping for this layer type");
  }

  // Fixed point of at most 8 bits with round-to-nearest-even and saturation is what ONNX's
  // QuantizeLinear (int8) computes; narrower widths add a Clip to their own range.
  static bool qdq_exact(const config::NumberSpec& s) {
    const numeric::Quantizer& q = s.quantizer;
    // (Unsigned fixed point would need a uint8 zero point: not mapped here, left as float.)
    return !s.is_float && q.format.kind == numeric::FormatKind::fixed && q.format.is_signed &&
           q.format.bits <= 8 &&
           q.format.fl >= -126 && q.format.fl <= 126 &&
           q.rounding == numeric::Rounding::nearest_even &&
           q.overflow == numeric::Overflow::saturate;
  }

  // x -> QuantizeLinear -> DequantizeLinear (-> Clip) -> returned name (`out` when given).
  std::string qdq(const Layer& l, const std::string& x, const config::NumberSpec& s,
                  const std::string& what, const std::string& out = "") {
    const numeric::Format& f = s.quantizer.format;
    const std::string base = l.name() + "." + what;
    const std::string sc =
        initializer(Tensor::from_floats(base + ".scale", {}, {std::ldexp(1.f, -f.fl)}));
    Tensor zp;
    zp.name = base + ".zero_point";
    zp.type = DataType::kInt8;
    zp.int_data = {0};
    zp.data = {0.f};
    const std::string z = initializer(std::move(zp));
    const std::string q = unique(base + ".q");
    g_->nodes.push_back(node(l, "QuantizeLinear", {x, sc, z}, {q}, "/q_" + what));
    const bool clip = f.bits < 8;
    const std::string dq = clip || out.empty() ? unique(base + ".dq") : out;
    g_->nodes.push_back(node(l, "DequantizeLinear", {q, sc, z}, {dq}, "/dq_" + what));
    if (!clip) return dq;
    const float lo = std::ldexp(-std::ldexp(1.f, f.bits - 1), -f.fl);
    const float hi = std::ldexp(std::ldexp(1.f, f.bits - 1) - 1, -f.fl);
    const std::string a = initializer(Tensor::from_floats(base + ".min", {}, {lo}));
    const std::string b = initializer(Tensor::from_floats(base + ".max", {}, {hi}));
    const std::string y = out.empty() ? unique(base + ".clip") : out;
    g_->nodes.push_back(node(l, "Clip", {dq, a, b}, {y}, "/clip_" + what));
    return y;
  }

  void record_activation_formats(const Layer& l, const engine::LayerQuant& lq) {
    if (!lq.formats().activations.is_float)
      (*meta_)["ristsim.format." + l.name() + ".input"] =
          format_string(lq.formats().activations.quantizer);
    if (!lq.formats().outputs.is_float)
      (*meta_)["ristsim.format." + l.name() + ".output"] =
          format_string(lq.formats().outputs.quantizer);
  }

  void pooling(int i, const Layer& l, const std::string& x) {
    const auto& s = l.spec();
    const std::string pool = s.get_string("pool", "max");
    const bool max = pool == "max" || pool == "MAX";
    const Blob& b = *net_.bottoms(i)[0];
    const Blob& t = *net_.tops(i)[0];
    if (s.get_bool("global_pooling", false)) {
      g_->nodes.push_back(
          node(l, max ? "GlobalMaxPool" : "GlobalAveragePool", {x}, {name_top(i, 0)}));
      return;
    }
    // Caffe divides by the window clipped to the padded input (pad cells count, cells past
    // it do not); count_include_pad: false divides by the cells inside the input.
    const bool include_pad = s.get_bool("count_include_pad", true);
    int kh, kw, sh, sw, ph, pw, dh, dw;
    s.get_hw("kernel_size", 0, &kh, &kw);
    s.get_hw("stride", 1, &sh, &sw);
    s.get_hw("pad", 0, &ph, &pw);
    s.get_hw("dilation", 1, &dh, &dw);
    const int ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1;  // the dilated window
    // The engine's output size (Caffe's ceil, last window clipped) as ONNX: ceil_mode when
    // its formula agrees on both axes, else floor with extra end padding.
    auto floor_out = [](int in, int k, int st, int p0, int p1) {
      return (in + p0 + p1 - k) / st + 1;
    };
    auto ceil_out = [](int in, int k, int st, int p) { return (in + 2 * p - k + st - 1) / st + 1; };
    const int H = b.shape(2), W = b.shape(3), OH = t.shape(2), OW = t.shape(3);
    int ceil_mode = 0, eh = ph, ew = pw;
    if (floor_out(H, ekh, sh, ph, ph) == OH && floor_out(W, ekw, sw, pw, pw) == OW) {
      ceil_mode = 0;
    } else if (ceil_out(H, ekh, sh, ph) == OH && ceil_out(W, ekw, sw, pw) == OW &&
               (max || (ph == 0 && pw == 0) || !include_pad)) {
      ceil_mode = 1;
    } else {
      eh = (OH - 1) * sh + ekh - H - ph;
      ew = (OW - 1) * sw + ekw - W - pw;
      if (!max && include_pad && (ph || pw) && (eh != ph || ew != pw))
        fail(l,
             "average pooling with padding whose last window runs past the padded input: "
             "ONNX's divisor differs from Caffe's there");
    }
    Node n = node(l, max ? "MaxPool" : "AveragePool", {x}, {name_top(i, 0)});
    n.attributes = {Attribute::make_ints("kernel_shape", {kh, kw}),
                    Attribute::make_ints("strides", {sh, sw}),
                    Attribute::make_ints("pads", {ph, pw, eh, ew})};
    if (ceil_mode) n.attributes.push_back(Attribute::make_int("ceil_mode", 1));
    if (dh != 1 || dw != 1) n.attributes.push_back(Attribute::make_ints("dilations", {dh, dw}));
    // As ONNX: count_include_pad=1 with padding (Caffe's), valid cells only otherwise.
    if (!max)
      n.attributes.push_back(
          Attribute::make_int("count_include_pad", include_pad && (ph || pw) ? 1 : 0));
    g_->nodes.push_back(n);
  }

  int batchnorm(int i, Layer& l, const std::string& x) {
    const Blob& mean_sum = *l.params()[0].blob;
    const Blob& var_sum = *l.params()[1].blob;
    const float factor = l.params()[2].blob->data()[0];
    const float f = factor == 0 ? 0.0f : 1.0f / factor;  // as the engine computes it
    const int C = mean_sum.shape(0);
    std::vector<float> mean(C), var(C), gamma(C, 1.f), beta(C, 0.f);
    for (int c = 0; c < C; ++c) {
      mean[c] = mean_sum.data()[c] * f;
      var[c] = var_sum.data()[c] * f;
    }
    int last = i;
    std::string y;
    if (i + 1 < net_.num_layers() && std::string(net_.layer(i + 1).type()) == "Scale" &&
        net_.bottoms(i + 1)[0] == net_.tops(i)[0]) {
      Layer& sc = net_.layer(i + 1);
      const Blob& g = *sc.params()[0].blob;
      std::copy(g.data(), g.data() + C, gamma.begin());
      if (sc.params().size() > 1) {
        const Blob& be = *sc.params()[1].blob;
        std::copy(be.data(), be.data() + C, beta.begin());
      }
      last = i + 1;
      y = name_top(i + 1, 0);
      names_[net_.tops(i)[0]] = y;  // nothing else reads the BatchNorm top (no Split between)
    } else {
      y = name_top(i, 0);
    }
    const std::vector<int64_t> cd = {C};
    const std::string s = initializer(Tensor::from_floats(l.name() + ".scale", cd, gamma));
    const std::string bb = initializer(Tensor::from_floats(l.name() + ".B", cd, beta));
    const std::string m = initializer(Tensor::from_floats(l.name() + ".mean", cd, mean));
    const std::string v = initializer(Tensor::from_floats(l.name() + ".var", cd, var));
    Node n = node(l, "BatchNormalization", {x, s, bb, m, v}, {y});
    n.attributes = {Attribute::make_float("epsilon", float(l.spec().get_double("eps", 1e-5)))};
    g_->nodes.push_back(n);
    return last;
  }

  engine::Net& net_;
  const ExportOptions& opt_;
  Graph* g_ = nullptr;
  std::map<std::string, std::string>* meta_ = nullptr;
  std::map<const Blob*, std::string> names_;
  std::set<std::string> used_, used_nodes_;

 public:
  uint64_t arch_seed_ = 0;
  bool datapath_exact_ = false;
};

}  // namespace

Model export_model(engine::Net& net, const ExportOptions& options) {
  Exporter e(net, options);
  if (options.arch) {
    e.arch_seed_ = options.arch->seed;
    e.datapath_exact_ = options.arch->datapath == config::Datapath::exact;
  } else if (options.quantized) {
    throw ModelError(
        "ONNX export: a quantized export needs ExportOptions::arch (the datapath "
        "decides the bias format)");
  }
  return e.run();
}

void export_onnx(engine::Net& net, const std::string& path, const ExportOptions& options) {
  Model m = export_model(net, options);
  write_onnx(m, path);
}

}  // namespace ristsim::io
