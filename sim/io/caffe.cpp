// Caffe / Ristretto prototxt + caffemodel <-> the engine's NetSpec and weights (see caffe.h).
#include "io/caffe.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "caffe.pb.h"
#include "numeric/checked.h"
#include "util/output.h"

namespace ristsim::io {

namespace {

namespace pb = ristsim_caffe;

[[noreturn]] void fail(const std::string& what, const std::string& why) {
  throw ModelError(what + ": " + why);
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Text-format errors with the file's line and column.
class Collector : public google::protobuf::io::ErrorCollector {
 public:
  explicit Collector(std::string what) : what_(std::move(what)) {}
  void AddError(int line, int column, const std::string& message) override {
    if (first_.empty())
      first_ = what_ + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " +
               message;
  }
  void AddWarning(int, int, const std::string&) override {}
  const std::string& first() const { return first_; }

 private:
  std::string what_, first_;
};

// ---- reading ----------------------------------------------------------------------------

bool excluded_from_test(const pb::LayerParameter& l) {
  if (l.has_phase() && l.phase() != pb::TEST) return true;
  for (const auto& r : l.include())
    if (r.has_phase() && r.phase() != pb::TEST) return true;
  for (const auto& r : l.exclude())
    if (r.has_phase() && r.phase() == pb::TEST) return true;
  return false;
}

std::vector<double> uints(const google::protobuf::RepeatedField<uint32_t>& v) {
  return std::vector<double>(v.begin(), v.end());
}

// kernel_size / pad / stride / dilation: one value for both axes, two (h, w), or _h / _w.
void put_hw(engine::LayerSpec& s, const std::string& key,
            const google::protobuf::RepeatedField<uint32_t>& v, const std::string& where) {
  if (v.size() == 1) s.set(key, double(v[0]));
  else if (v.size() == 2) s.set(key, uints(v));
  else if (v.size() > 2) fail(where, key + " has " + std::to_string(v.size()) + " values (3-D is not supported)");
}

std::vector<int64_t> blob_dims(const pb::BlobProto& b) {
  if (b.has_shape()) return std::vector<int64_t>(b.shape().dim().begin(), b.shape().dim().end());
  std::vector<int64_t> d = {b.num(), b.channels(), b.height(), b.width()};
  while (d.size() > 1 && d.front() == 1) d.erase(d.begin());  // legacy 4-D padding with 1s
  return d;
}

numeric::Rounding rounding_of(const pb::QuantizationParameter& q) {
  return q.rounding_scheme() == pb::QuantizationParameter::STOCHASTIC
             ? numeric::Rounding::stochastic
             : numeric::Rounding::nearest_away;  // Ristretto's round(): ties away from zero
}

config::NumberSpec fixed_spec(int bits, int fl, numeric::Rounding r, const std::string& where) {
  if (bits < 1 || bits > 32) fail(where, "bit width " + std::to_string(bits) + " is not in 1..32");
  if (fl < -512 || fl > 512) fail(where, "fractional length " + std::to_string(fl) + " is not in -512..512");
  config::NumberSpec s;
  s.quantizer.format = numeric::Format::fixed_point(bits, fl);
  s.quantizer.rounding = r;
  return s;
}

// A Ristretto layer's quantization_param as the layer's four formats.
config::LayerFormats ristretto_formats(const pb::QuantizationParameter& q, const std::string& where) {
  const numeric::Rounding r = rounding_of(q);
  config::LayerFormats f;
  f.activations = fixed_spec(int(q.bw_layer_in()), q.fl_layer_in(), r, where + ": bw_layer_in/fl_layer_in");
  f.outputs = fixed_spec(int(q.bw_layer_out()), q.fl_layer_out(), r, where + ": bw_layer_out/fl_layer_out");
  switch (q.precision()) {
    case pb::QuantizationParameter::DYNAMIC_FIXED_POINT:
      f.weights = fixed_spec(int(q.bw_params()), q.fl_params(), r, where + ": bw_params/fl_params");
      break;
    case pb::QuantizationParameter::MINIFLOAT: {
      const int e = int(q.exp_bits()), m = int(q.mant_bits());
      config::NumberSpec s;
      s.quantizer.format = numeric::Format::minifloat(e, m, numeric::Specials::ristretto);
      s.quantizer.rounding = r;
      if (const char* why = numeric::validate(s.quantizer)) fail(where, std::string("minifloat: ") + why);
      f.activations = f.weights = f.outputs = s;
      break;
    }
    case pb::QuantizationParameter::INTEGER_POWER_OF_2_WEIGHTS: {
      const int lo = q.exp_min(), hi = q.exp_max();
      int field = 1;
      while (field < 9 && (1 << field) < hi - lo + 1) ++field;
      if (hi < lo || (1 << field) != hi - lo + 1)
        fail(where, "power-of-two exponents " + std::to_string(lo) + ".." + std::to_string(hi) +
                        " must be 2^k of them (k <= 9; ristsim's pow2 has a 2^(B-1)-exponent field)");
      config::NumberSpec s;
      s.quantizer.format = numeric::Format::pow2(field + 1, hi, false, numeric::Pow2Rounding::log);
      s.quantizer.rounding = r;
      if (const char* why = numeric::validate(s.quantizer)) fail(where, std::string("pow2: ") + why);
      f.weights = s;
      break;
    }
  }
  f.bias = f.weights;  // the float datapath quantizes the bias in the weights' format
  return f;
}

CaffeModel convert(const pb::NetParameter& np, const pb::NetParameter* weights,
                   const std::string& what, const std::string& weights_what) {
  if (np.layer_size() == 0)
    fail(what, "no layers (a V1 'layers' file needs Caffe's upgrade_net_proto_text first)");
  CaffeModel cm;
  engine::NetSpec& spec = cm.net.spec;
  spec.name = np.name().empty() ? "caffe" : np.name();
  spec.file = what;
  auto set_input = [&](const std::string& name, std::vector<int64_t> dims, const std::string& where) {
    spec.input = name;
    if (dims.size() == 4) dims.erase(dims.begin());
    if (dims.size() != 3 && !dims.empty())
      fail(where, "input '" + name + "' needs a shape [N, C, H, W] or [C, H, W]");
    spec.input_shape.clear();
    for (int64_t d : dims) {
      if (d < 1 || d > (1 << 20)) fail(where, "input '" + name + "' has a dimension " + std::to_string(d));
      spec.input_shape.push_back(int(d));
    }
  };
  if (np.input_size() > 0) {
    if (np.input_size() != 1) fail(what, "the net has " + std::to_string(np.input_size()) + " inputs; ristsim takes one");
    std::vector<int64_t> dims;
    if (np.input_shape_size() > 0) dims.assign(np.input_shape(0).dim().begin(), np.input_shape(0).dim().end());
    else dims.assign(np.input_dim().begin(), np.input_dim().end());
    set_input(np.input(0), dims, what);
  }
  std::map<std::string, config::LayerFormats> formats;
  std::set<std::string> names;
  std::string last_softmax_bottom;
  for (const pb::LayerParameter& l : np.layer()) {
    const std::string where = what + ": layer '" + l.name() + "' (" + l.type() + ")";
    if (excluded_from_test(l)) continue;
    const std::string& t = l.type();
    if (t == "Data" || t == "ImageData" || t == "Input" || t == "MemoryData") {
      if (l.top_size() < 1) fail(where, "no top");
      std::vector<int64_t> dims;
      if (t == "Input" && l.input_param().shape_size() > 0)
        dims.assign(l.input_param().shape(0).dim().begin(), l.input_param().shape(0).dim().end());
      if (spec.layers.empty()) set_input(l.top(0), dims, where);
      continue;
    }
    if (t == "Accuracy" || t == "SoftmaxWithLoss" || t == "Silence") continue;
    if (l.name().empty()) fail(where, "a layer without a name");
    if (!names.insert(l.name()).second) fail(where, "a second layer of this name");
    engine::LayerSpec s;
    s.name = l.name();
    s.file = what;
    s.bottoms.assign(l.bottom().begin(), l.bottom().end());
    s.tops.assign(l.top().begin(), l.top().end());
    if (s.bottoms.empty() || s.tops.empty()) fail(where, "needs a bottom and a top");
    last_softmax_bottom.clear();
    if (t == "Convolution" || t == "ConvolutionRistretto") {
      const auto& c = l.convolution_param();
      s.type = "Convolution";
      if (!c.has_num_output()) fail(where, "convolution_param has no num_output");
      if (c.axis() != 1) fail(where, "convolution axis other than 1");
      s.set("num_output", double(c.num_output()));
      put_hw(s, "kernel_size", c.kernel_size(), where);
      put_hw(s, "stride", c.stride(), where);
      put_hw(s, "pad", c.pad(), where);
      put_hw(s, "dilation", c.dilation(), where);
      if (c.has_kernel_h()) s.set("kernel_h", double(c.kernel_h()));
      if (c.has_kernel_w()) s.set("kernel_w", double(c.kernel_w()));
      if (c.has_stride_h()) s.set("stride_h", double(c.stride_h()));
      if (c.has_stride_w()) s.set("stride_w", double(c.stride_w()));
      if (c.has_pad_h()) s.set("pad_h", double(c.pad_h()));
      if (c.has_pad_w()) s.set("pad_w", double(c.pad_w()));
      s.set("group", double(c.group()));
      s.set("bias_term", std::string(c.bias_term() ? "true" : "false"));
    } else if (t == "InnerProduct" || t == "FcRistretto") {
      const auto& p = l.inner_product_param();
      s.type = "InnerProduct";
      if (!p.has_num_output()) fail(where, "inner_product_param has no num_output");
      if (p.axis() != 1 || p.transpose()) fail(where, "axis other than 1 or transpose: true");
      s.set("num_output", double(p.num_output()));
      s.set("bias_term", std::string(p.bias_term() ? "true" : "false"));
    } else if (t == "Pooling") {
      const auto& p = l.pooling_param();
      s.type = "Pooling";
      if (p.pool() == pb::PoolingParameter::STOCHASTIC) fail(where, "stochastic pooling");
      s.set("pool", p.pool() == pb::PoolingParameter::MAX ? "max" : "ave");
      if (p.global_pooling()) {
        s.set("global_pooling", std::string("true"));
      } else {
        if (p.has_kernel_size()) s.set("kernel_size", double(p.kernel_size()));
        if (p.has_kernel_h()) s.set("kernel_h", double(p.kernel_h()));
        if (p.has_kernel_w()) s.set("kernel_w", double(p.kernel_w()));
        if (!p.has_kernel_size() && !(p.has_kernel_h() && p.has_kernel_w()))
          fail(where, "pooling_param has no kernel size");
      }
      s.set("stride", double(p.stride()));
      if (p.has_stride_h()) s.set("stride_h", double(p.stride_h()));
      if (p.has_stride_w()) s.set("stride_w", double(p.stride_w()));
      s.set("pad", double(p.pad()));
      if (p.has_pad_h()) s.set("pad_h", double(p.pad_h()));
      if (p.has_pad_w()) s.set("pad_w", double(p.pad_w()));
    } else if (t == "LRN" || t == "LRNRistretto") {
      const auto& p = l.lrn_param();
      s.type = "LRN";
      if (p.norm_region() != pb::LRNParameter::ACROSS_CHANNELS)
        fail(where, "norm_region WITHIN_CHANNEL (the engine's LRN is across channels)");
      s.set("local_size", double(p.local_size()));
      s.set("alpha", double(p.alpha()));
      s.set("beta", double(p.beta()));
      s.set("k", double(p.k()));
    } else if (t == "ReLU") {
      s.type = "ReLU";
      if (l.relu_param().negative_slope() != 0)
        s.set("negative_slope", double(l.relu_param().negative_slope()));
    } else if (t == "Dropout") {
      s.type = "Dropout";
      s.set("dropout_ratio", double(l.dropout_param().dropout_ratio()));
    } else if (t == "Concat") {
      s.type = "Concat";
      const auto& p = l.concat_param();
      s.set("axis", double(p.has_axis() ? p.axis() : int(p.concat_dim())));
    } else if (t == "Softmax") {
      s.type = "Softmax";
      if (l.softmax_param().axis() != 1) fail(where, "softmax axis other than 1");
      last_softmax_bottom = s.bottoms[0];
    } else {
      fail(where, "layer type not supported (Convolution, InnerProduct, Pooling, LRN, ReLU, "
                  "Dropout, Concat, Softmax and Ristretto's ConvolutionRistretto, FcRistretto, "
                  "LRNRistretto are)");
    }
    const bool ristretto = t == "ConvolutionRistretto" || t == "FcRistretto";
    if (ristretto) formats[l.name()] = ristretto_formats(l.quantization_param(), where);
    else if (l.has_quantization_param() && t != "LRNRistretto")
      fail(where, "quantization_param on a layer that is not a Ristretto layer");
    spec.layers.push_back(std::move(s));
  }
  if (spec.layers.empty()) fail(what, "no layer the engine runs");
  if (spec.input.empty() || spec.input == "data") {
    if (np.input_size() == 0 && spec.input.empty()) fail(what, "no input (input:, an Input layer or a Data layer)");
  }
  // A final Softmax is left out: the engine's output is the class scores (same top-1).
  if (!last_softmax_bottom.empty()) spec.layers.pop_back();
  spec.output = spec.layers.back().tops[0];

  if (weights) {
    std::map<std::string, const pb::LayerParameter*> by_name;
    for (const pb::LayerParameter& l : weights->layer())
      if (l.blobs_size() > 0) by_name[l.name()] = &l;
    if (weights->layer_size() == 0)
      fail(weights_what, "no layers (a V1 caffemodel needs Caffe's upgrade_net_proto_binary first)");
    for (const engine::LayerSpec& s : spec.layers) {
      if (s.type != "Convolution" && s.type != "InnerProduct") continue;
      auto it = by_name.find(s.name);
      if (it == by_name.end()) fail(weights_what, "no blobs for layer '" + s.name + "'");
      std::vector<Tensor>& params = cm.net.params[s.name];
      for (int b = 0; b < it->second->blobs_size(); ++b) {
        const pb::BlobProto& bp = it->second->blobs(b);
        std::vector<int64_t> dims = blob_dims(bp);
        const std::optional<int64_t> n = checked::product(dims, checked::kMaxFileElements);
        if (!n) fail(weights_what, "layer '" + s.name + "' blob " + std::to_string(b) + " has an impossible shape");
        std::vector<float> v;
        if (bp.data_size() > 0) v.assign(bp.data().begin(), bp.data().end());
        else v.assign(bp.double_data().begin(), bp.double_data().end());
        if (int64_t(v.size()) != *n)
          fail(weights_what, "layer '" + s.name + "' blob " + std::to_string(b) + ": " +
                                 std::to_string(v.size()) + " values for a shape of " + std::to_string(*n));
        params.push_back(Tensor::from_floats(s.name + "." + std::to_string(b), dims, std::move(v)));
      }
    }
  }
  if (!formats.empty()) {
    config::Arch a;
    a.name = spec.name + "_ristretto";
    a.datapath = config::Datapath::float32;
    for (config::NumberSpec* g : {&a.formats.activations, &a.formats.weights, &a.formats.bias,
                                  &a.formats.outputs})
      g->is_float = true;
    for (const auto& [name, f] : formats) {
      config::LayerOverride o;
      o.layer = name;
      o.has_activations = o.has_weights = o.has_bias = o.has_outputs = true;
      o.formats = f;
      a.overrides.push_back(o);
    }
    cm.arch = a;
  }
  return cm;
}

// ---- writing ----------------------------------------------------------------------------

void put_blob(pb::BlobProto* bp, const engine::Blob& b) {
  for (int d : b.shape()) bp->mutable_shape()->add_dim(d);
  for (std::size_t i = 0; i < b.count(); ++i) bp->add_data(b.data()[i]);
}

// kernel_size, stride, pad, dilation of the engine's spec as Caffe's repeated fields.
template <class Add>
void get_hw_fields(const engine::LayerSpec& s, const char* key, int def, Add add) {
  int h, w;
  s.get_hw(key, def, &h, &w);
  add(h);
  if (w != h) add(w);
}

void set_quantization(pb::QuantizationParameter* q, const config::LayerFormats& f,
                      const std::string& where) {
  if (f.activations.is_mx || f.weights.is_mx)
    fail(where, "OCP MX block formats have no Ristretto quantization_param");
  auto fixed = [&](const config::NumberSpec& s, const char* g) -> const numeric::Format& {
    if (s.is_float || s.quantizer.format.kind != numeric::FormatKind::fixed)
      fail(where, std::string(g) + ": Ristretto's quantization_param holds fixed point here");
    return s.quantizer.format;
  };
  const numeric::Rounding r = f.weights.quantizer.rounding;
  q->set_rounding_scheme(r == numeric::Rounding::stochastic ? pb::QuantizationParameter::STOCHASTIC
                                                            : pb::QuantizationParameter::NEAREST);
  const numeric::Format& w = f.weights.quantizer.format;
  if (f.weights.is_float) fail(where, "float weights in a Ristretto layer");
  if (!f.weights.channel_fl.empty() || f.weights.per_channel())
    fail(where, "Ristretto's quantization_param has one fl_params per layer; per-channel "
                "weight fractional lengths (granularity: channel) cannot be written to Caffe");
  if (w.kind == numeric::FormatKind::minifloat) {
    if (w.specials != numeric::Specials::ristretto)
      fail(where, "Ristretto's MINIFLOAT is its own variant (specials ristretto), not " +
                      std::string(numeric::to_string(w.specials)));
    q->set_precision(pb::QuantizationParameter::MINIFLOAT);
    q->set_exp_bits(w.exp_bits);
    q->set_mant_bits(w.mant_bits);
    return;
  }
  const numeric::Format& in = fixed(f.activations, "activations");
  const numeric::Format& out = fixed(f.outputs, "outputs");
  q->set_bw_layer_in(in.bits);
  q->set_fl_layer_in(in.fl);
  q->set_bw_layer_out(out.bits);
  q->set_fl_layer_out(out.fl);
  if (w.kind == numeric::FormatKind::pow2) {
    if (w.zero_code || w.pow2_rounding != numeric::Pow2Rounding::log)
      fail(where, "Ristretto's power-of-two weights have no zero code and log rounding");
    q->set_precision(pb::QuantizationParameter::INTEGER_POWER_OF_2_WEIGHTS);
    q->set_exp_max(w.exp_max);
    q->set_exp_min(w.exp_max - ((1 << (w.bits - 1)) - 1));
    return;
  }
  q->set_precision(pb::QuantizationParameter::DYNAMIC_FIXED_POINT);
  q->set_bw_params(w.bits);
  q->set_fl_params(w.fl);
}

pb::NetParameter to_proto(engine::Net& net, const config::Arch* arch, bool with_blobs) {
  pb::NetParameter np;
  np.set_name(net.spec().name);
  np.add_input(net.spec().input.empty() ? "data" : net.spec().input);
  auto* shape = np.add_input_shape();
  for (int d : net.input().shape()) shape->add_dim(d);
  shape->set_dim(0, 1);
  for (int i = 0; i < net.num_layers(); ++i) {
    engine::Layer& l = net.layer(i);
    const engine::LayerSpec& s = l.spec();
    const std::string t = l.type();
    const std::string where = "Caffe export: layer '" + l.name() + "' (" + t + ")";
    if (t == "SoftmaxWithLoss" || t == "Split") continue;
    pb::LayerParameter* lp = np.add_layer();
    lp->set_name(l.name());
    lp->set_type(t);
    for (const std::string& b : s.bottoms) lp->add_bottom(b);
    for (const std::string& b : s.tops) lp->add_top(b);
    const bool quantized = arch && (t == "Convolution" || t == "InnerProduct");
    config::LayerFormats f;
    if (quantized) f = config::formats_for(*arch, l.name());
    const bool ristretto = quantized && !f.weights.is_float;
    if (t == "Convolution") {
      auto* c = lp->mutable_convolution_param();
      c->set_num_output(s.get_int("num_output", 0));
      get_hw_fields(s, "kernel_size", 0, [&](int v) { c->add_kernel_size(v); });
      get_hw_fields(s, "stride", 1, [&](int v) { c->add_stride(v); });
      get_hw_fields(s, "pad", 0, [&](int v) { c->add_pad(v); });
      int dh, dw;
      s.get_hw("dilation", 1, &dh, &dw);
      if (dh != 1 || dw != 1) get_hw_fields(s, "dilation", 1, [&](int v) { c->add_dilation(v); });
      if (s.get_int("group", 1) != 1) c->set_group(s.get_int("group", 1));
      if (!s.get_bool("bias_term", true)) c->set_bias_term(false);
      if (ristretto) lp->set_type("ConvolutionRistretto");
    } else if (t == "InnerProduct") {
      auto* p = lp->mutable_inner_product_param();
      p->set_num_output(s.get_int("num_output", 0));
      if (!s.get_bool("bias_term", true)) p->set_bias_term(false);
      if (ristretto) lp->set_type("FcRistretto");
    } else if (t == "Pooling") {
      auto* p = lp->mutable_pooling_param();
      const std::string pool = s.get_string("pool", "max");
      p->set_pool(pool == "max" || pool == "MAX" ? pb::PoolingParameter::MAX : pb::PoolingParameter::AVE);
      if (s.get_string("round", "ceil") != "ceil") fail(where, "round: floor (Caffe pools with ceil)");
      if (!s.get_bool("count_include_pad", true)) fail(where, "count_include_pad: false (Caffe's divisor counts the padding)");
      if (s.get_bool("global_pooling", false)) {
        p->set_global_pooling(true);
      } else {
        int kh, kw, sh, sw, ph, pw;
        s.get_hw("kernel_size", 0, &kh, &kw);
        s.get_hw("stride", 1, &sh, &sw);
        s.get_hw("pad", 0, &ph, &pw);
        if (kh == kw) p->set_kernel_size(kh);
        else p->set_kernel_h(kh), p->set_kernel_w(kw);
        if (sh == sw) p->set_stride(sh);
        else p->set_stride_h(sh), p->set_stride_w(sw);
        if (ph == pw) p->set_pad(ph);
        else p->set_pad_h(ph), p->set_pad_w(pw);
      }
    } else if (t == "LRN") {
      auto* p = lp->mutable_lrn_param();
      p->set_local_size(s.get_int("local_size", 5));
      p->set_alpha(float(s.get_double("alpha", 1.0)));
      p->set_beta(float(s.get_double("beta", 0.75)));
      p->set_k(float(s.get_double("k", 1.0)));
    } else if (t == "ReLU") {
      const double slope = s.get_double("negative_slope", 0.0);
      if (slope != 0) lp->mutable_relu_param()->set_negative_slope(float(slope));
    } else if (t == "Dropout") {
      lp->mutable_dropout_param()->set_dropout_ratio(float(s.get_double("dropout_ratio", 0.5)));
    } else if (t == "Concat") {
      lp->mutable_concat_param()->set_axis(s.get_int("axis", 1));
    } else if (t == "Softmax") {
      lp->mutable_softmax_param()->set_axis(s.get_int("axis", 1));
    } else {
      fail(where, "no Caffe layer written for this type");
    }
    if (ristretto) set_quantization(lp->mutable_quantization_param(), f, where);
    if (with_blobs)
      for (const auto& p : l.params()) put_blob(lp->add_blobs(), *p.blob);
  }
  return np;
}

}  // namespace

std::string not_caffe_exportable(const config::Arch& arch) {
  auto check = [&](const std::string& layer, const config::LayerFormats& f) -> std::string {
    if (f.weights.is_float) return "";
    try {
      pb::QuantizationParameter q;
      set_quantization(&q, f, layer);
    } catch (const ModelError& e) {
      return e.what();
    }
    return "";
  };
  if (std::string r = check("*", arch.formats); !r.empty()) return r;
  for (const config::LayerOverride& o : arch.overrides)
    if (std::string r = check(o.layer, config::formats_for(arch, o.layer)); !r.empty()) return r;
  return "";
}

bool is_caffe_prototxt(const std::string& path) {
  const std::string ext = ".prototxt";
  return path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
}

CaffeModel parse_caffe(const std::string& text, const std::string& bytes, const std::string& what) {
  return checked::with_input_errors(
      "the Caffe model",
      [&] {
        pb::NetParameter np;
        google::protobuf::TextFormat::Parser parser;
        Collector errors(what);
        parser.RecordErrorsTo(&errors);
        if (!parser.ParseFromString(text, &np))
          throw ModelError(errors.first().empty() ? what + ": not a Caffe prototxt" : errors.first());
        const std::string wwhat = what + " (weights)";
        pb::NetParameter weights;
        if (!bytes.empty()) {
          google::protobuf::io::ArrayInputStream raw(bytes.data(), int(bytes.size()));
          google::protobuf::io::CodedInputStream in(&raw);
          in.SetRecursionLimit(32);
          if (!weights.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
            fail(wwhat, "not a caffemodel (protobuf parse failed on " + std::to_string(bytes.size()) + " bytes)");
        }
        return convert(np, bytes.empty() ? nullptr : &weights, what, wwhat);
      },
      [&](const std::string& m) { return ModelError(what + ": " + m); });
}

CaffeModel read_caffe(const std::string& prototxt, const std::string& caffemodel) {
  const std::string text = read_all(prototxt);
  if (caffemodel.empty()) return parse_caffe(text, "", prototxt);
  const std::string bytes = read_all(caffemodel);
  if (bytes.empty()) fail(caffemodel, "empty file (not a caffemodel)");
  try {
    return parse_caffe(text, bytes, prototxt);
  } catch (const ModelError& e) {
    std::string m = e.what();
    const std::string tag = prototxt + " (weights)";
    if (m.rfind(tag, 0) == 0) m = caffemodel + m.substr(tag.size());  // name the weight file
    throw ModelError(m);
  }
}

void write_caffe(engine::Net& net, const config::Arch* arch, const std::string& prototxt,
                 const std::string& caffemodel) {
  std::string text;
  google::protobuf::TextFormat::Printer printer;
  if (!printer.PrintToString(to_proto(net, arch, false), &text))
    fail(prototxt, "protobuf text printing failed");
  std::string bytes;
  if (!to_proto(net, arch, true).SerializeToString(&bytes))
    fail(caffemodel, "protobuf serialization failed (over 2 GiB?)");
  util::write_file(prototxt,
                   "# Written by ristsim (Caffe " + std::string(arch ? "/ Ristretto quantized " : "") +
                       "prototxt). Ristretto's NEAREST rounds ties away from zero.\n" + text);
  util::write_file(caffemodel, bytes);
}

}  // namespace ristsim::io
