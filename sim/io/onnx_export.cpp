// Engine Net -> ONNX graph IR (see onnx_export.h for the layer table).
#include "io/onnx_export.h"

#include <algorithm>
#include <cmath>
#include <optional>
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

constexpr const char* kQonnxDomain = "qonnx.custom_op.general";

// How one quantized tensor is written (see onnx_export.h).
struct Encoding {
  enum class Kind { grid, int_qdq, fp8_qdq, qonnx_int, qonnx_float } kind = Kind::grid;
  DataType container = DataType::kFloat;  ///< qdq: the code type
  int container_bits = 0;                 ///< qdq fixed: 8 / 16 / 32
  float scale = 1.f;                      ///< value = code (or FP8 value) * scale
  int opset = 13;                         ///< the default domain's opset it needs
  std::string rounding;                   ///< qonnx: rounding_mode
};

bool is_fp8(const numeric::Format& f, int exp_bits, int mant_bits, numeric::Specials sp) {
  return f.kind == numeric::FormatKind::minifloat && f.exp_bits == exp_bits &&
         f.mant_bits == mant_bits && f.specials == sp && f.subnormals;
}

// QONNX's rounding_mode names (IntQuant's table; FloatQuant has ROUND, CEIL, FLOOR only).
const char* qonnx_rounding(numeric::Rounding r, bool float_quant) {
  switch (r) {
    case numeric::Rounding::nearest_even: return "ROUND";
    case numeric::Rounding::up: return "CEIL";
    case numeric::Rounding::down: return "FLOOR";
    case numeric::Rounding::nearest_away: return float_quant ? nullptr : "HALF_UP";
    case numeric::Rounding::toward_zero: return float_quant ? nullptr : "DOWN";
    case numeric::Rounding::stochastic: return nullptr;
  }
  return nullptr;
}

// The encoding of `q` in `form`, or the reason it has none (*why). `activation`: the
// runtime quantizes the tensor itself (rounding and overflow must be its own); otherwise the
// codes are computed here and only their values must be representable.
std::optional<Encoding> encoding_of(const numeric::Quantizer& q, QuantExport form,
                                    bool activation, std::string* why) {
  using numeric::FormatKind;
  const numeric::Format& f = q.format;
  Encoding e;
  if (q.rounding == numeric::Rounding::stochastic && !(activation && form == QuantExport::float_grid)) {
    *why = "stochastic rounding cannot be exported (its bits depend on the arch seed and stream)";
    return std::nullopt;
  }
  if (form == QuantExport::float_grid) return e;  // values on the grid, formats as metadata
  const bool nearest_sat =
      q.rounding == numeric::Rounding::nearest_even && q.overflow == numeric::Overflow::saturate;
  if (f.kind == FormatKind::pow2) {
    *why = "neither ONNX's QuantizeLinear nor QONNX has a power-of-two format (QONNX's "
           "FloatQuant always has a zero and subnormals; this format has " +
           std::string(f.zero_code ? "its own rounding between powers" : "no zero") + ")";
    return std::nullopt;
  }
  if (f.kind == FormatKind::fixed) {
    if (f.fl < -126 || f.fl > 126) {
      *why = "the scale 2^" + std::to_string(-f.fl) + " is not a normal float32";
      return std::nullopt;
    }
    e.scale = std::ldexp(1.f, -f.fl);
    if (form == QuantExport::qonnx) {
      if (f.bits > 24) {
        *why = "QONNX's Quant computes in float32, which holds codes of at most 24 bits";
        return std::nullopt;
      }
      if (activation && q.overflow != numeric::Overflow::saturate) {
        *why = "QONNX's Quant saturates; overflow '" + std::string(numeric::to_string(q.overflow)) +
               "' is not expressible";
        return std::nullopt;
      }
      const char* r = qonnx_rounding(q.rounding, false);
      e.kind = Encoding::Kind::qonnx_int;
      e.rounding = r ? r : "ROUND";
      return e;
    }
    e.kind = Encoding::Kind::int_qdq;
    if (activation) {
      if (!nearest_sat) {
        *why = "QuantizeLinear rounds to nearest even and saturates; round=" +
               std::string(numeric::to_string(q.rounding)) +
               " overflow=" + numeric::to_string(q.overflow) + " needs --export qonnx";
        return std::nullopt;
      }
      if (f.bits > 16) {
        *why = std::string("QuantizeLinear has no ") + (f.is_signed ? "signed" : "unsigned") +
               " type wider than " + (f.is_signed ? "int16" : "uint16") + " (use --export qonnx)";
        return std::nullopt;
      }
      // Unsigned fixed point: uint8 / uint16 with zero point 0.
      if (f.is_signed)
        e.container = f.bits <= 8 ? DataType::kInt8 : DataType::kInt16;
      else
        e.container = f.bits <= 8 ? DataType::kUint8 : DataType::kUint16;
      e.container_bits = f.bits <= 8 ? 8 : 16;
      e.opset = f.bits <= 8 ? 13 : 21;
      return e;
    }
    if (f.bits > 24) {
      *why = "DequantizeLinear computes in float32, which holds codes of at most 24 bits";
      return std::nullopt;
    }
    e.container = f.bits <= 8 ? (f.is_signed ? DataType::kInt8 : DataType::kUint8) : DataType::kInt32;
    e.container_bits = f.bits <= 8 ? 8 : 32;
    return e;
  }
  // minifloat
  if (form == QuantExport::qonnx) {
    if (f.specials == numeric::Specials::ristretto || !f.subnormals) {
      *why = "QONNX's FloatQuant always has subnormals and a zero code; this minifloat " +
             std::string(f.specials == numeric::Specials::ristretto ? "has Ristretto's specials"
                                                                    : "has no subnormals");
      return std::nullopt;
    }
    const char* r = qonnx_rounding(q.rounding, true);
    if (activation && (!r || q.overflow != numeric::Overflow::saturate)) {
      *why = "QONNX's FloatQuant rounds ROUND / CEIL / FLOOR and saturates; round=" +
             std::string(numeric::to_string(q.rounding)) +
             " overflow=" + numeric::to_string(q.overflow) + " is not expressible";
      return std::nullopt;
    }
    e.kind = Encoding::Kind::qonnx_float;
    e.rounding = r ? r : "ROUND";
    return e;
  }
  const bool e4m3 = is_fp8(f, 4, 3, numeric::Specials::fn);
  const bool e5m2 = is_fp8(f, 5, 2, numeric::Specials::ieee);
  if (!e4m3 && !e5m2) {
    *why = "ONNX's QuantizeLinear has FP8 E4M3 (fn) and E5M2 (ieee) with subnormals only; "
           "other minifloats need --export qonnx";
    return std::nullopt;
  }
  const int shift = numeric::Format::default_bias(f.exp_bits) - f.bias;
  if (shift < -126 || shift > 126) {
    *why = "the scale 2^" + std::to_string(shift) + " is not a normal float32";
    return std::nullopt;
  }
  if (activation && !nearest_sat) {
    *why = "QuantizeLinear to FP8 rounds to nearest even and saturates (saturate=1); round=" +
           std::string(numeric::to_string(q.rounding)) +
           " overflow=" + numeric::to_string(q.overflow) + " is not expressible";
    return std::nullopt;
  }
  e.kind = Encoding::Kind::fp8_qdq;
  e.container = e4m3 ? DataType::kFloat8E4M3FN : DataType::kFloat8E5M2;
  e.scale = std::ldexp(1.f, shift);
  e.opset = 19;
  return e;
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
    // IR 7 goes with opset 13, IR 9 with 19 (float8 types), IR 10 with 21 (int16 quantize).
    m.opset_imports = {{"", opset_}};
    m.ir_version = opset_ >= 21 ? 10 : opset_ >= 19 ? 9 : 7;
    if (qonnx_) m.opset_imports.push_back({kQonnxDomain, 1});
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

  // A parameter as an initializer: float, or on its format's grid written as the export's
  // form encodes it (codes + DequantizeLinear, or grid values + Quant / FloatQuant). Returns
  // the value name to feed the node. `channel_fl` (per-channel weights, and the bias of the
  // float datapath in their format): element i of the tensor belongs to output channel
  // i / (n / K) and is quantized with that channel's FL; the scale is then a tensor of one
  // 2^-FL per channel on axis 0 (DequantizeLinear's per-axis form, QONNX Quant's
  // broadcast scale).
  std::string param(const Layer& l, const std::string& name, std::vector<int64_t> dims,
                    const Blob& b, const numeric::Quantizer* q, uint64_t stream,
                    const std::vector<int>* channel_fl = nullptr) {
    if (!q) return initializer(tensor_of(name, std::move(dims), b));
    numeric::Quantizer qq = *q;
    qq.seed = opt_arch_seed();
    qq.stream = stream;
    const Encoding e = encoding(l, name, qq, false);
    const std::size_t n = b.count();
    const bool per_channel = channel_fl && !channel_fl->empty();
    const std::size_t per = per_channel ? n / channel_fl->size() : n;
    std::vector<float> scales;  // per channel
    if (per_channel) {
      for (int fl : *channel_fl) {
        numeric::Quantizer qc = qq;
        qc.format.fl = fl;
        scales.push_back(encoding(l, name, qc, false).scale);  // checks every channel's FL
      }
      std::string fls;
      for (int fl : *channel_fl) fls += (fls.empty() ? "" : ",") + std::to_string(fl);
      (*meta_)["ristsim.channel_fl." + name] = fls;
    }
    std::vector<float> grid(n);
    std::vector<int64_t> codes(n);
    for (std::size_t i = 0; i < n; ++i) {
      numeric::Quantizer qi = qq;
      if (per_channel) qi.format.fl = (*channel_fl)[i / per];
      const numeric::Quantized r = numeric::quantize(qi, double(b.data()[i]), i);
      grid[i] = static_cast<float>(r.value);
      // The integer of a fixed-point code (two's complement sign-extended, or unsigned).
      codes[i] = qq.format.kind == numeric::FormatKind::fixed
                     ? numeric::fixed_integer(qq.format, r.code)
                     : static_cast<int64_t>(r.code);
    }
    const std::string fmt = format_string(qq);
    (*meta_)["ristsim.format." + name] = fmt;
    if (e.kind == Encoding::Kind::int_qdq || e.kind == Encoding::Kind::fp8_qdq) {
      Tensor c;
      c.name = name + ".codes";
      c.dims = dims;
      c.type = e.container;
      if (e.kind == Encoding::Kind::int_qdq) {
        c.int_data = codes;
        c.data.assign(codes.begin(), codes.end());
        c.doc_string = "ristsim format " + fmt + "; value = code * 2^-" +
                       (per_channel ? std::string("FL of its output channel (scale, axis 0)")
                                    : std::to_string(qq.format.fl));
      } else {  // FP8 values (exact: the grid divided by a power of two)
        for (float& g : grid) g /= e.scale;
        c.data = grid;
        c.doc_string = "ristsim format " + fmt + "; value = FP8 value * " + std::to_string(e.scale);
      }
      const std::string cn = initializer(std::move(c));
      const auto [sn, zn] = scale_and_zero(name, e, scales);
      const std::string out = unique(name);
      Node dq = node(l, "DequantizeLinear", {cn, sn, zn}, {out}, "/dq_" + name);
      if (per_channel) dq.attributes = {Attribute::make_int("axis", 0)};
      g_->nodes.push_back(dq);
      return out;
    }
    // Per channel: QONNX's scale broadcast along axis 0, {K, 1, ...} (the tensor's rank).
    std::vector<int64_t> scale_dims(std::max<std::size_t>(dims.size(), 1), 1);
    scale_dims[0] = static_cast<int64_t>(scales.size());
    Tensor t = Tensor::from_floats(name, std::move(dims), std::move(grid));
    t.doc_string = "ristsim format " + fmt + " (values on the grid)";
    const std::string v = initializer(std::move(t));
    if (e.kind == Encoding::Kind::grid) return v;
    if (per_channel)
      return qonnx_quant(l, v, qq, e, name, "",
                         initializer(Tensor::from_floats(name + ".scale", scale_dims, scales)));
    return qonnx_quant(l, v, qq, e, name);
  }

  // The encoding of q in the export's form; ModelError naming layer, tensor and format when
  // there is none.
  Encoding encoding(const Layer& l, const std::string& tensor, const numeric::Quantizer& q,
                    bool activation) {
    std::string why;
    const std::optional<Encoding> e = encoding_of(q, opt_.form, activation, &why);
    if (!e)
      fail(l, "--export " + std::string(to_string(opt_.form)) + " cannot write " + tensor + " (" +
                  format_string(q) + "): " + why);
    opset_ = std::max(opset_, e->opset);
    if (e->kind == Encoding::Kind::qonnx_int || e->kind == Encoding::Kind::qonnx_float)
      qonnx_ = true;
    return *e;
  }

  // The scale (float scalar) and zero point (the container's type, 0) of a QDQ pair; with
  // `per_axis` scales, 1-D tensors of one scale (zero point) per channel.
  std::pair<std::string, std::string> scale_and_zero(const std::string& base, const Encoding& e,
                                                     const std::vector<float>& per_axis = {}) {
    const bool axis = !per_axis.empty();
    const std::vector<int64_t> dims =
        axis ? std::vector<int64_t>{static_cast<int64_t>(per_axis.size())} : std::vector<int64_t>{};
    const std::string sn = initializer(
        Tensor::from_floats(base + ".scale", dims, axis ? per_axis : std::vector<float>{e.scale}));
    Tensor zp;
    zp.name = base + ".zero_point";
    zp.type = e.container;
    zp.dims = dims;
    const std::size_t count = axis ? per_axis.size() : 1;
    if (e.kind == Encoding::Kind::int_qdq) zp.int_data.assign(count, 0);
    zp.data.assign(count, 0.f);
    return {sn, initializer(std::move(zp))};
  }

  // x -> Quant (fixed point) or FloatQuant (minifloat) in QONNX's domain -> returned name
  // (`out` when given).
  std::string qonnx_quant(const Layer& l, const std::string& x, const numeric::Quantizer& q,
                          const Encoding& e, const std::string& base, const std::string& out = "",
                          const std::string& scale = "") {
    const numeric::Format& f = q.format;
    const std::string y = out.empty() ? unique(base + ".quant") : out;
    auto scalar = [&](const std::string& what, float v) {
      return initializer(Tensor::from_floats(base + "." + what, {}, {v}));
    };
    Node n;
    if (e.kind == Encoding::Kind::qonnx_int) {
      n = node(l, "Quant", {x, scale.empty() ? scalar("scale", e.scale) : scale,
                            scalar("zeropt", 0.f),
                            scalar("bitwidth", float(f.bits))},
               {y}, "/quant_" + base);
      n.attributes = {Attribute::make_int("signed", f.is_signed ? 1 : 0), Attribute::make_int("narrow", 0),
                      Attribute::make_string("rounding_mode", e.rounding)};
    } else {
      n = node(l, "FloatQuant",
               {x, scalar("scale", 1.f), scalar("exponent_bitwidth", float(f.exp_bits)),
                scalar("mantissa_bitwidth", float(f.mant_bits)),
                scalar("exponent_bias", float(f.bias)),
                scalar("max_val", float(numeric::max_value(f)))},
               {y}, "/floatquant_" + base);
      // QONNX's operator document names the attribute has_infinity, its executor
      // (qonnx.custom_op.general.floatquant, 0.4 and 1.x) requires has_inf: both are written.
      n.attributes = {Attribute::make_int("has_infinity", f.has_inf() ? 1 : 0),
                      Attribute::make_int("has_inf", f.has_inf() ? 1 : 0),
                      Attribute::make_int("has_nan", f.has_nan() ? 1 : 0),
                      Attribute::make_int("has_subnormal", 1),
                      Attribute::make_int("saturation", 1),
                      Attribute::make_string("rounding_mode", e.rounding)};
    }
    n.domain = kQonnxDomain;
    n.doc_string = "ristsim format " + format_string(q);
    g_->nodes.push_back(n);
    return y;
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
        if (lq->formats().activations.is_mx || lq->formats().weights.is_mx)
          fail(l, "OCP MX formats have no QDQ or QONNX form (block scales along the reduction "
                  "dimension)");
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
      // Per-channel weights (granularity: channel): one FL per output channel, on axis 0;
      // the float datapath's bias, in the weights' format, the same.
      const std::vector<int>* w_fl = lq ? &lq->formats().weights.channel_fl : nullptr;
      const std::string w = param(l, l.name() + ".W", wdims, wl.weights(), qw, base + 1, w_fl);
      std::vector<std::string> ins = {x, w};
      if (wl.bias())
        ins.push_back(param(l, l.name() + ".B", {g.k}, *wl.bias(), qb, base + 2,
                            datapath_exact_ ? nullptr : w_fl));
      const bool qdq_in = lq && !lq->formats().activations.is_float;
      const bool qdq_out = lq && !lq->formats().outputs.is_float;
      if (qdq_in) ins[0] = fake_quant(l, ins[0], lq->formats().activations, "input");
      const std::string y_final = name_top(i, 0);
      const std::string y =
          qdq_out && opt_.form != QuantExport::float_grid ? unique(y_final + "_acc") : y_final;
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
      if (qdq_out) fake_quant(l, y, lq->formats().outputs, "output", y_final);
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

  // A layer input or output quantized by the runtime as the engine quantizes it:
  // QuantizeLinear -> DequantizeLinear (-> Clip to a narrower fixed-point range), or QONNX's
  // Quant / FloatQuant; nothing in the float form. Returns the name of the quantized value
  // (`out` when given).
  std::string fake_quant(const Layer& l, const std::string& x, const config::NumberSpec& s,
                         const std::string& what, const std::string& out = "") {
    const numeric::Quantizer& q = s.quantizer;
    const std::string base = l.name() + "." + what;
    const Encoding e = encoding(l, base, q, true);
    if (e.kind == Encoding::Kind::grid) return x;
    if (e.kind == Encoding::Kind::qonnx_int || e.kind == Encoding::Kind::qonnx_float)
      return qonnx_quant(l, x, q, e, base, out);
    const numeric::Format& f = q.format;
    const auto [sc, z] = scale_and_zero(base, e);
    const std::string qv = unique(base + ".q");
    g_->nodes.push_back(node(l, "QuantizeLinear", {x, sc, z}, {qv}, "/q_" + what));
    const bool clip = e.kind == Encoding::Kind::int_qdq && f.bits < e.container_bits;
    const std::string dq = clip || out.empty() ? unique(base + ".dq") : out;
    g_->nodes.push_back(node(l, "DequantizeLinear", {qv, sc, z}, {dq}, "/dq_" + what));
    if (!clip) return dq;
    // The format's own range (codes -2^(B-1) .. 2^(B-1)-1, or 0 .. 2^B-1 unsigned).
    const float lo = f.is_signed ? std::ldexp(-std::ldexp(1.f, f.bits - 1), -f.fl) : 0.f;
    const float hi = f.is_signed ? std::ldexp(std::ldexp(1.f, f.bits - 1) - 1, -f.fl)
                                 : std::ldexp(std::ldexp(1.f, f.bits) - 1, -f.fl);
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
  int opset_ = 13;      ///< the default domain's opset the encodings need
  bool qonnx_ = false;  ///< QONNX nodes written
};

}  // namespace

const char* to_string(QuantExport e) {
  switch (e) {
    case QuantExport::qdq: return "qdq";
    case QuantExport::qonnx: return "qonnx";
    case QuantExport::float_grid: return "float";
  }
  return "?";
}

bool parse_quant_export(const std::string& s, QuantExport* out) {
  for (QuantExport e : {QuantExport::qdq, QuantExport::qonnx, QuantExport::float_grid})
    if (s == to_string(e)) {
      *out = e;
      return true;
    }
  return false;
}

std::string not_exportable(const config::NumberSpec& spec, QuantExport form, bool activation) {
  if (spec.is_float) return "";
  if (spec.is_mx)  // one scale per block of the reduction dimension: not a per-tensor QDQ
    return std::string(numeric::mx_name(spec.mx.element)) +
           ": OCP MX block scales (one per block along each output's reduction dimension) have "
           "no QDQ or QONNX form";
  numeric::Quantizer q = spec.quantizer;
  if (spec.dynamic && q.format.kind == numeric::FormatKind::fixed) q.format.fl = 0;
  std::string why;
  return encoding_of(q, form, activation, &why) ? "" : format_string(q) + ": " + why;
}

std::string not_exportable(const config::Arch& arch, QuantExport form) {
  std::string r;
  auto check = [&](const std::string& where, const config::LayerFormats& f) {
    // The float datapath quantizes the bias in the weights' format.
    const config::NumberSpec& bias =
        arch.datapath == config::Datapath::exact ? f.bias : f.weights;
    const std::pair<const char*, std::pair<const config::NumberSpec*, bool>> groups[] = {
        {"activations", {&f.activations, true}},
        {"weights", {&f.weights, false}},
        {"bias", {&bias, false}},
        {"outputs", {&f.outputs, true}}};
    for (const auto& [name, g] : groups) {
      const std::string why = not_exportable(*g.first, form, g.second);
      if (!why.empty()) r += where + name + ": " + why + "\n";
    }
  };
  check("", arch.formats);
  for (const config::LayerOverride& o : arch.overrides)
    check("layer " + o.layer + " ", config::formats_for(arch, o.layer));
  return r;
}

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
