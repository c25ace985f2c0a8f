// ONNX ModelProto / TensorProto <-> graph IR. The only file that includes protobuf headers.
#include "io/onnx.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "numeric/quantize.h"
#include "util/output.h"

namespace ristsim::io {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& msg) {
  throw ModelError(what + ": " + msg);
}

// ---- element conversions ---------------------------------------------------------------

// IEEE binary16 -> float, exact (subnormals, inf, NaN included).
float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h >> 15) << 31;
  const int e = (h >> 10) & 0x1f;
  const uint32_t m = h & 0x3ff;
  float v;
  if (e == 0) {
    v = std::ldexp(float(m), -24);
  } else if (e == 31) {
    v = m ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  } else {
    v = std::ldexp(float(m | 0x400), e - 25);
  }
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  bits |= sign;
  std::memcpy(&v, &bits, 4);
  return v;
}

// float -> binary16, round to nearest even, overflow to inf.
uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const float a = std::fabs(f);
  if (std::isnan(f)) return sign | 0x7e00;
  if (a >= 65520.f) return sign | 0x7c00;  // rounds to inf (max finite is 65504)
  if (a < std::ldexp(1.f, -14)) {
    // Subnormal range: quantum 2^-24; nearbyint rounds ties to even.
    return sign | static_cast<uint16_t>(std::nearbyint(std::ldexp(a, 24)));
  }
  int e;
  const float frac = std::frexp(a, &e);  // a = frac * 2^e, frac in [0.5,1)
  uint32_t mant = static_cast<uint32_t>(std::nearbyint(std::ldexp(frac, 11)));  // 1024..2048
  int he = e - 1 + 15;
  if (mant == 2048) {
    mant = 1024;
    ++he;
  }
  if (he >= 31) return sign | 0x7c00;
  return sign | static_cast<uint16_t>(he << 10) | static_cast<uint16_t>(mant & 0x3ff);
}

float bf16_to_float(uint16_t b) {
  const uint32_t x = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

uint16_t float_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if (std::isnan(f)) return static_cast<uint16_t>((x >> 16) | 0x40);
  const uint32_t lsb = (x >> 16) & 1;
  x += 0x7fff + lsb;  // round to nearest even
  return static_cast<uint16_t>(x >> 16);
}

// The FP8 element types are the numeric core's OCP formats: one definition of every code.
const numeric::Format* fp8_format(DataType t) {
  static const numeric::Format e4m3 = numeric::Format::e4m3(), e5m2 = numeric::Format::e5m2();
  return t == DataType::kFloat8E4M3FN ? &e4m3 : t == DataType::kFloat8E5M2 ? &e5m2 : nullptr;
}

float fp8_to_float(DataType t, uint8_t code) {
  return static_cast<float>(numeric::decode(*fp8_format(t), code));
}

// The FP8 code of f: exact for values on the format's grid (what the export writes), else
// rounded to nearest even and saturated (QuantizeLinear's default, saturate=1).
uint8_t float_to_fp8(DataType t, float f) {
  numeric::Quantizer q;
  q.format = *fp8_format(t);
  return static_cast<uint8_t>(numeric::quantize(q, double(f), 0).code);
}

std::size_t element_size(DataType t) {
  switch (t) {
    case DataType::kFloat:
    case DataType::kInt32:
    case DataType::kUint32: return 4;
    case DataType::kDouble:
    case DataType::kInt64:
    case DataType::kUint64: return 8;
    case DataType::kInt16:
    case DataType::kUint16:
    case DataType::kFloat16:
    case DataType::kBFloat16: return 2;
    case DataType::kInt8:
    case DataType::kUint8:
    case DataType::kBool:
    case DataType::kFloat8E4M3FN:
    case DataType::kFloat8E5M2: return 1;
    default: return 0;
  }
}

template <class T>
T load_le(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);  // x86-64 and aarch64 are little-endian, as ONNX raw_data is
  return v;
}

// Appends one element given as raw little-endian bytes.
void push_raw(Tensor& t, const char* p) {
  switch (t.type) {
    case DataType::kFloat: t.data.push_back(load_le<float>(p)); return;
    case DataType::kDouble: t.data.push_back(static_cast<float>(load_le<double>(p))); return;
    case DataType::kFloat16: t.data.push_back(half_to_float(load_le<uint16_t>(p))); return;
    case DataType::kBFloat16: t.data.push_back(bf16_to_float(load_le<uint16_t>(p))); return;
    case DataType::kFloat8E4M3FN:
    case DataType::kFloat8E5M2: t.data.push_back(fp8_to_float(t.type, load_le<uint8_t>(p))); return;
    default: break;
  }
  int64_t v = 0;
  switch (t.type) {
    case DataType::kInt8: v = load_le<int8_t>(p); break;
    case DataType::kUint8: v = load_le<uint8_t>(p); break;
    case DataType::kBool: v = load_le<uint8_t>(p) != 0; break;
    case DataType::kInt16: v = load_le<int16_t>(p); break;
    case DataType::kUint16: v = load_le<uint16_t>(p); break;
    case DataType::kInt32: v = load_le<int32_t>(p); break;
    case DataType::kUint32: v = load_le<uint32_t>(p); break;
    case DataType::kInt64: v = load_le<int64_t>(p); break;
    case DataType::kUint64: v = static_cast<int64_t>(load_le<uint64_t>(p)); break;
    default: break;
  }
  t.int_data.push_back(v);
  t.data.push_back(static_cast<float>(v));
}

// Appends one element of the typed fields (int32_data holds 8/16-bit types, float16 and
// bfloat16 bit patterns; uint64_data holds uint32 and uint64).
void push_int(Tensor& t, int64_t v) {
  if (t.type == DataType::kFloat16) {
    t.data.push_back(half_to_float(static_cast<uint16_t>(v)));
    return;
  }
  if (t.type == DataType::kBFloat16) {
    t.data.push_back(bf16_to_float(static_cast<uint16_t>(v)));
    return;
  }
  if (fp8_format(t.type)) {
    t.data.push_back(fp8_to_float(t.type, static_cast<uint8_t>(v)));
    return;
  }
  if (t.type == DataType::kBool) v = v != 0;
  t.int_data.push_back(v);
  t.data.push_back(static_cast<float>(v));
}

std::string dims_str(const std::vector<int64_t>& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

std::string tensor_label(const onnx::TensorProto& p) {
  return p.name().empty() ? std::string("unnamed tensor") : "tensor '" + p.name() + "'";
}

// Reads external data (location, offset, length) relative to base_dir.
std::string read_external(const onnx::TensorProto& p, const std::string& what,
                          const std::string& base_dir) {
  std::string location;
  int64_t offset = 0, length = -1;
  // offset and length: decimal integers in 0..2^63-1, the whole value.
  auto number = [&](const std::string& key, const std::string& v) {
    char* end = nullptr;
    errno = 0;
    const long long x = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || v[0] == '-' || v[0] == ' ' || *end != '\0' || errno == ERANGE)
      fail(what, tensor_label(p) + ": external data " + key + " '" + v +
                     "' is not a non-negative integer below 2^63");
    return static_cast<int64_t>(x);
  };
  for (const auto& kv : p.external_data()) {
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset")
      offset = number("offset", kv.value());
    else if (kv.key() == "length")
      length = number("length", kv.value());
  }
  if (location.empty()) fail(what, tensor_label(p) + ": external data without a location");
  // The location is a file next to the model: relative, without a ".." component.
  const fs::path rel(location);
  bool escapes = rel.is_absolute() || rel.has_root_name() || rel.has_root_directory();
  for (const fs::path& part : rel) escapes = escapes || part == "..";
  if (escapes)
    fail(what, tensor_label(p) + ": external data location '" + location +
                   "' is not a relative path inside the model's folder");
  const fs::path file = fs::path(base_dir) / location;
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(what, tensor_label(p) + ": external data file " + file.string() + " not found");
  in.seekg(0, std::ios::end);
  const int64_t size = in.tellg();
  if (size < 0) fail(file.string(), "cannot read the external data (not a regular file?)");
  if (offset > size)
    fail(file.string(), "truncated: " + tensor_label(p) + " starts at byte " +
                            std::to_string(offset) + ", file has " + std::to_string(size));
  if (length < 0) length = size - offset;
  const std::optional<int64_t> stop = checked::add(offset, length);
  if (!stop || *stop > size)
    fail(file.string(), "truncated: " + tensor_label(p) + " needs " + std::to_string(length) +
                            " bytes from byte " + std::to_string(offset) + ", file has " +
                            std::to_string(size));
  // The tensor's own size bounds what is read (before the buffer is allocated).
  const std::optional<int64_t> n = checked::product(p.dims(), checked::kMaxFileElements);
  const int64_t esize = static_cast<int64_t>(element_size(static_cast<DataType>(p.data_type())));
  if (!n || esize == 0 || length != *n * esize)
    fail(what, tensor_label(p) + ": " + std::to_string(length) + " bytes of external data for " +
                   (n ? std::to_string(*n) + " values" : "dims " + dims_str({p.dims().begin(),
                                                                            p.dims().end()})) +
                   " of type " + data_type_name(static_cast<DataType>(p.data_type())));
  std::string bytes(static_cast<std::size_t>(length), '\0');
  in.seekg(offset);
  in.read(bytes.data(), length);
  return bytes;
}

Tensor from_proto(const onnx::TensorProto& p, const std::string& what,
                  const std::string& base_dir) {
  Tensor t;
  t.name = p.name();
  t.doc_string = p.doc_string();
  t.dims.assign(p.dims().begin(), p.dims().end());
  t.type = static_cast<DataType>(p.data_type());
  for (int64_t d : t.dims)
    if (d < 0) fail(what, tensor_label(p) + ": negative dimension in " + dims_str(t.dims));
  if (p.has_segment()) fail(what, tensor_label(p) + ": segmented tensors are not supported");
  const std::size_t esize = element_size(t.type);
  if (esize == 0)
    fail(what, tensor_label(p) + ": element type " + data_type_name(t.type) + " (" +
                   std::to_string(p.data_type()) + ") is not supported (numeric types only)");
  // Element count, checked (each dim and the product within the documented limits): nothing
  // is allocated before the data is known to be there.
  for (int64_t d : t.dims)
    if (d > checked::kMaxDim)
      fail(what, tensor_label(p) + ": dimension " + std::to_string(d) + " in " + dims_str(t.dims) +
                     " is larger than " + std::to_string(checked::kMaxDim));
  const std::optional<int64_t> count_ok = checked::product(t.dims, checked::kMaxFileElements);
  if (!count_ok)
    fail(what, tensor_label(p) + ": dims " + dims_str(t.dims) + " hold more than " +
                   std::to_string(checked::kMaxFileElements) + " values");
  const int64_t n = *count_ok;
  auto reserve = [&] {
    t.data.reserve(static_cast<std::size_t>(n));
    if (is_integer_type(t.type)) t.int_data.reserve(static_cast<std::size_t>(n));
  };

  const bool external = p.data_location() == onnx::TensorProto_DataLocation_EXTERNAL;
  if (external || p.has_raw_data()) {
    const std::string raw = external ? read_external(p, what, base_dir) : p.raw_data();
    if (raw.size() != static_cast<std::size_t>(n) * esize)
      fail(what, tensor_label(p) + ": " + std::to_string(raw.size()) + " bytes of raw data for " +
                     std::to_string(n) + " " + data_type_name(t.type) + " values of dims " +
                     dims_str(t.dims) + " (" + std::to_string(n * esize) + " expected)");
    reserve();
    for (int64_t i = 0; i < n; ++i) push_raw(t, raw.data() + i * esize);
    return t;
  }
  int64_t count = 0;
  switch (t.type) {
    case DataType::kFloat: count = p.float_data_size(); break;
    case DataType::kDouble: count = p.double_data_size(); break;
    case DataType::kInt64: count = p.int64_data_size(); break;
    case DataType::kUint32:
    case DataType::kUint64: count = p.uint64_data_size(); break;
    default: count = p.int32_data_size(); break;
  }
  if (count != n)
    fail(what, tensor_label(p) + ": " + std::to_string(count) + " values for dims " +
                   dims_str(t.dims) + " (" + std::to_string(n) + " expected)");
  reserve();
  switch (t.type) {
    case DataType::kFloat:
      for (float v : p.float_data()) t.data.push_back(v);
      break;
    case DataType::kDouble:
      for (double v : p.double_data()) t.data.push_back(static_cast<float>(v));
      break;
    case DataType::kInt64:
      for (int64_t v : p.int64_data()) push_int(t, v);
      break;
    case DataType::kUint32:
    case DataType::kUint64:
      for (uint64_t v : p.uint64_data()) push_int(t, static_cast<int64_t>(v));
      break;
    default:  // int32, int16, int8, uint16, uint8, bool, float16, bfloat16, float8
      for (int32_t v : p.int32_data()) {
        int64_t x = v;
        if (t.type == DataType::kUint8 || fp8_format(t.type)) x &= 0xff;
        if (t.type == DataType::kUint16 || t.type == DataType::kFloat16 ||
            t.type == DataType::kBFloat16)
          x &= 0xffff;
        push_int(t, x);
      }
      break;
  }
  return t;
}

void to_proto(const Tensor& t, onnx::TensorProto* p, const std::string& what) {
  p->set_name(t.name);
  if (!t.doc_string.empty()) p->set_doc_string(t.doc_string);
  for (int64_t d : t.dims) p->add_dims(d);
  p->set_data_type(static_cast<int32_t>(t.type));
  const std::size_t esize = element_size(t.type);
  if (esize == 0)
    fail(what,
         "tensor '" + t.name + "': element type " + data_type_name(t.type) + " cannot be written");
  const std::size_t n = static_cast<std::size_t>(t.numel());
  const bool ints = is_integer_type(t.type);
  if ((ints && !t.int_data.empty() ? t.int_data.size() : t.data.size()) != n)
    fail(what, "tensor '" + t.name + "': " + std::to_string(t.data.size()) + " values for dims " +
                   dims_str(t.dims) + " (" + std::to_string(n) + " expected)");
  std::string raw(n * esize, '\0');
  char* out = raw.data();
  for (std::size_t i = 0; i < n; ++i, out += esize) {
    const float f = t.data.empty() ? 0.f : t.data[i];
    const int64_t v = ints ? (t.int_data.empty() ? std::llround(f) : t.int_data[i]) : 0;
    switch (t.type) {
      case DataType::kFloat: std::memcpy(out, &f, 4); break;
      case DataType::kDouble: {
        const double d = f;
        std::memcpy(out, &d, 8);
        break;
      }
      case DataType::kFloat16: {
        const uint16_t h = float_to_half(f);
        std::memcpy(out, &h, 2);
        break;
      }
      case DataType::kBFloat16: {
        const uint16_t h = float_to_bf16(f);
        std::memcpy(out, &h, 2);
        break;
      }
      case DataType::kInt8:
      case DataType::kUint8: {
        const uint8_t b = uint8_t(v);
        std::memcpy(out, &b, 1);
        break;
      }
      case DataType::kBool: {
        const uint8_t b = v != 0;
        std::memcpy(out, &b, 1);
        break;
      }
      case DataType::kFloat8E4M3FN:
      case DataType::kFloat8E5M2: {
        const uint8_t b = float_to_fp8(t.type, f);
        std::memcpy(out, &b, 1);
        break;
      }
      case DataType::kInt16:
      case DataType::kUint16: {
        const uint16_t h = uint16_t(v);
        std::memcpy(out, &h, 2);
        break;
      }
      case DataType::kInt32:
      case DataType::kUint32: {
        const uint32_t w = uint32_t(v);
        std::memcpy(out, &w, 4);
        break;
      }
      case DataType::kInt64:
      case DataType::kUint64: std::memcpy(out, &v, 8); break;
      default: break;
    }
  }
  p->set_raw_data(std::move(raw));
}

// ---- attributes, values, nodes ----------------------------------------------------------

Attribute from_proto(const onnx::AttributeProto& a, const std::string& where,
                     const std::string& what, const std::string& base_dir) {
  Attribute r;
  r.name = a.name();
  if (!a.ref_attr_name().empty())
    fail(what, where + ": attribute '" + a.name() + "' refers to a function attribute ('" +
                   a.ref_attr_name() + "'), which is not supported");
  switch (a.type()) {
    case onnx::AttributeProto_AttributeType_FLOAT:
      r.type = AttrType::kFloat;
      r.f = a.f();
      break;
    case onnx::AttributeProto_AttributeType_INT:
      r.type = AttrType::kInt;
      r.i = a.i();
      break;
    case onnx::AttributeProto_AttributeType_STRING:
      r.type = AttrType::kString;
      r.s = a.s();
      break;
    case onnx::AttributeProto_AttributeType_TENSOR:
      r.type = AttrType::kTensor;
      r.t = from_proto(a.t(), what, base_dir);
      break;
    case onnx::AttributeProto_AttributeType_FLOATS:
      r.type = AttrType::kFloats;
      r.floats.assign(a.floats().begin(), a.floats().end());
      break;
    case onnx::AttributeProto_AttributeType_INTS:
      r.type = AttrType::kInts;
      r.ints.assign(a.ints().begin(), a.ints().end());
      break;
    case onnx::AttributeProto_AttributeType_STRINGS:
      r.type = AttrType::kStrings;
      r.strings.assign(a.strings().begin(), a.strings().end());
      break;
    default:
      fail(what, where + ": attribute '" + a.name() + "' has type " +
                     onnx::AttributeProto_AttributeType_Name(a.type()) +
                     ", which the graph IR does not hold (float, int, string, tensor and their "
                     "lists only)");
  }
  return r;
}

void to_proto(const Attribute& a, onnx::AttributeProto* p, const std::string& what) {
  p->set_name(a.name);
  switch (a.type) {
    case AttrType::kFloat:
      p->set_type(onnx::AttributeProto_AttributeType_FLOAT);
      p->set_f(a.f);
      break;
    case AttrType::kInt:
      p->set_type(onnx::AttributeProto_AttributeType_INT);
      p->set_i(a.i);
      break;
    case AttrType::kString:
      p->set_type(onnx::AttributeProto_AttributeType_STRING);
      p->set_s(a.s);
      break;
    case AttrType::kTensor:
      p->set_type(onnx::AttributeProto_AttributeType_TENSOR);
      to_proto(a.t, p->mutable_t(), what);
      break;
    case AttrType::kFloats:
      p->set_type(onnx::AttributeProto_AttributeType_FLOATS);
      for (float v : a.floats) p->add_floats(v);
      break;
    case AttrType::kInts:
      p->set_type(onnx::AttributeProto_AttributeType_INTS);
      for (int64_t v : a.ints) p->add_ints(v);
      break;
    case AttrType::kStrings:
      p->set_type(onnx::AttributeProto_AttributeType_STRINGS);
      for (const auto& v : a.strings) p->add_strings(v);
      break;
    case AttrType::kUndefined: fail(what, "attribute '" + a.name + "' has no type");
  }
}

ValueInfo from_proto(const onnx::ValueInfoProto& v, const std::string& what) {
  ValueInfo r;
  r.name = v.name();
  r.doc_string = v.doc_string();
  if (!v.has_type()) {  // allowed for intermediate values
    r.type = DataType::kUndefined;
    r.has_shape = false;
    return r;
  }
  if (!v.type().has_tensor_type())
    fail(what, "value '" + v.name() + "' is not a tensor (sequence, map, optional and sparse " +
                   "values are not supported)");
  const auto& tt = v.type().tensor_type();
  r.type = static_cast<DataType>(tt.elem_type());
  r.has_shape = tt.has_shape();
  for (const auto& d : tt.shape().dim()) {
    if (d.has_dim_value()) {
      if (d.dim_value() < 0 || d.dim_value() > checked::kMaxDim)
        fail(what, "value '" + v.name() + "': dimension " + std::to_string(d.dim_value()) +
                       " is not in 0.." + std::to_string(checked::kMaxDim));
      r.shape.push_back(d.dim_value());
      r.dim_params.emplace_back();
    } else {
      r.shape.push_back(-1);
      r.dim_params.push_back(d.has_dim_param() ? d.dim_param() : std::string());
    }
  }
  return r;
}

void to_proto(const ValueInfo& v, onnx::ValueInfoProto* p) {
  p->set_name(v.name);
  if (!v.doc_string.empty()) p->set_doc_string(v.doc_string);
  if (v.type == DataType::kUndefined && !v.has_shape) return;
  auto* tt = p->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(static_cast<int32_t>(v.type));
  if (!v.has_shape) return;
  auto* shape = tt->mutable_shape();
  for (std::size_t i = 0; i < v.shape.size(); ++i) {
    auto* d = shape->add_dim();
    if (v.shape[i] >= 0)
      d->set_dim_value(v.shape[i]);
    else if (i < v.dim_params.size() && !v.dim_params[i].empty())
      d->set_dim_param(v.dim_params[i]);
  }
}

Model from_proto(const onnx::ModelProto& mp, const std::string& what, const std::string& base_dir) {
  if (mp.functions_size() > 0)
    fail(what, "model-local functions (" + mp.functions(0).name() + ", ...) are not supported");
  Model m;
  m.source = what;
  m.ir_version = mp.ir_version();
  m.opset_imports.clear();
  for (const auto& o : mp.opset_import()) m.opset_imports.push_back({o.domain(), o.version()});
  m.producer_name = mp.producer_name();
  m.producer_version = mp.producer_version();
  m.domain = mp.domain();
  m.doc_string = mp.doc_string();
  m.model_version = mp.model_version();
  for (const auto& kv : mp.metadata_props()) m.metadata[kv.key()] = kv.value();
  const auto& g = mp.graph();
  if (g.sparse_initializer_size() > 0)
    fail(what,
         "sparse initializer '" + g.sparse_initializer(0).values().name() + "' is not supported");
  if (g.quantization_annotation_size() > 0)
    fail(what, "graph quantization_annotation (tensor '" +
                   g.quantization_annotation(0).tensor_name() + "') is not supported");
  m.graph.name = g.name();
  m.graph.doc_string = g.doc_string();
  for (int k = 0; k < g.node_size(); ++k) {
    const auto& np = g.node(k);
    Node n;
    n.op_type = np.op_type();
    n.name = np.name();
    n.domain = np.domain();
    n.doc_string = np.doc_string();
    n.inputs.assign(np.input().begin(), np.input().end());
    n.outputs.assign(np.output().begin(), np.output().end());
    const std::string where = "node " + std::to_string(k) + " (" + n.describe() + ")";
    for (const auto& a : np.attribute())
      n.attributes.push_back(from_proto(a, where, what, base_dir));
    m.graph.nodes.push_back(std::move(n));
  }
  for (const auto& t : g.initializer())
    m.graph.initializers.push_back(from_proto(t, what, base_dir));
  for (const auto& v : g.input()) m.graph.inputs.push_back(from_proto(v, what));
  for (const auto& v : g.output()) m.graph.outputs.push_back(from_proto(v, what));
  for (const auto& v : g.value_info()) m.graph.value_info.push_back(from_proto(v, what));
  return m;
}

onnx::ModelProto to_proto(const Model& m, const std::string& what) {
  onnx::ModelProto mp;
  mp.set_ir_version(m.ir_version);
  for (const auto& o : m.opset_imports) {
    auto* op = mp.add_opset_import();
    op->set_domain(o.domain);
    op->set_version(o.version);
  }
  if (!m.producer_name.empty()) mp.set_producer_name(m.producer_name);
  if (!m.producer_version.empty()) mp.set_producer_version(m.producer_version);
  if (!m.domain.empty()) mp.set_domain(m.domain);
  if (!m.doc_string.empty()) mp.set_doc_string(m.doc_string);
  if (m.model_version) mp.set_model_version(m.model_version);
  for (const auto& [k, v] : m.metadata) {
    auto* kv = mp.add_metadata_props();
    kv->set_key(k);
    kv->set_value(v);
  }
  auto* g = mp.mutable_graph();
  g->set_name(m.graph.name);
  if (!m.graph.doc_string.empty()) g->set_doc_string(m.graph.doc_string);
  for (const Node& n : m.graph.nodes) {
    auto* np = g->add_node();
    np->set_op_type(n.op_type);
    if (!n.name.empty()) np->set_name(n.name);
    if (!n.domain.empty()) np->set_domain(n.domain);
    if (!n.doc_string.empty()) np->set_doc_string(n.doc_string);
    for (const auto& s : n.inputs) np->add_input(s);
    for (const auto& s : n.outputs) np->add_output(s);
    for (const auto& a : n.attributes) to_proto(a, np->add_attribute(), what);
  }
  for (const Tensor& t : m.graph.initializers) to_proto(t, g->add_initializer(), what);
  for (const ValueInfo& v : m.graph.inputs) to_proto(v, g->add_input());
  for (const ValueInfo& v : m.graph.outputs) to_proto(v, g->add_output());
  for (const ValueInfo& v : m.graph.value_info) to_proto(v, g->add_value_info());
  return mp;
}

void check(const onnx::ModelProto& mp, const std::string& what, const char* prefix) {
  try {
    // The installed checker may predate the model's IR version (Debian 12's libonnx 1.12
    // knows IR 8 and opset 17; float8 needs IR 9 / opset 19, int16 QuantizeLinear IR 10 /
    // opset 21). Such a model is checked under the checker's own IR version: the graph's
    // structure, names, initializers and each node against the newest schema the checker has.
    if (mp.ir_version() > onnx::IR_VERSION) {
      onnx::ModelProto older = mp;
      older.set_ir_version(onnx::IR_VERSION);
      onnx::checker::check_model(older);
      return;
    }
    onnx::checker::check_model(mp);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    fail(what, std::string(prefix) + msg);
  }
}

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail(path, "no such file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Every file goes through the one output writer: temporary file, fsync, rename (a full disk
/// leaves the destination as it was and no temporary file).
void write_file(const std::string& path, const std::string& bytes) { util::write_file(path, bytes); }

}  // namespace

Model parse_onnx(const std::string& bytes, const std::string& what, bool check_it,
                 const std::string& base_dir) {
  return checked::with_input_errors(
      "the ONNX model",
      [&] {
        onnx::ModelProto mp;
        if (!mp.ParseFromString(bytes))
          fail(what, "not an ONNX model (protobuf parse failed on " +
                         std::to_string(bytes.size()) + " bytes)");
        // External initializers are read here (bounded, inside base_dir) and held as raw data:
        // the checker would look for their files relative to the working directory.
        for (onnx::TensorProto& t : *mp.mutable_graph()->mutable_initializer()) {
          if (t.data_location() != onnx::TensorProto_DataLocation_EXTERNAL) continue;
          std::string raw = read_external(t, what, base_dir);
          t.clear_external_data();
          t.set_data_location(onnx::TensorProto_DataLocation_DEFAULT);
          t.set_raw_data(std::move(raw));
        }
        if (check_it) check(mp, what, "invalid ONNX model: ");
        return from_proto(mp, what, base_dir);
      },
      [&](const std::string& m) { return ModelError(what + ": " + m); });
}

Model read_onnx(const std::string& path, bool check_it) {
  const std::string bytes = read_file(path);
  const std::string dir = fs::path(path).parent_path().string();
  return parse_onnx(bytes, path, check_it, dir.empty() ? "." : dir);
}

std::string serialize_onnx(const Model& m) {
  const onnx::ModelProto mp = to_proto(m, "<memory>");
  check(mp, "<memory>", "the model to write is not valid ONNX: ");
  std::string bytes;
  if (!mp.SerializeToString(&bytes)) fail("<memory>", "protobuf serialization failed");
  return bytes;
}

void write_onnx(const Model& m, const std::string& path) {
  const onnx::ModelProto mp = to_proto(m, path);
  check(mp, path, "the model to write is not valid ONNX (nothing written): ");
  std::string bytes;
  if (!mp.SerializeToString(&bytes))
    fail(path, "protobuf serialization failed (a model over 2 GiB needs external data)");
  write_file(path, bytes);
}

Tensor read_tensor_pb(const std::string& path) {
  return checked::with_input_errors(
      "the tensor",
      [&] {
        const std::string bytes = read_file(path);
        onnx::TensorProto tp;
        if (!tp.ParseFromString(bytes))
          fail(path, "not a TensorProto (protobuf parse failed on " +
                         std::to_string(bytes.size()) + " bytes)");
        const std::string dir = fs::path(path).parent_path().string();
        return from_proto(tp, path, dir.empty() ? "." : dir);
      },
      [&](const std::string& m) { return ModelError(path + ": " + m); });
}

void write_tensor_pb(const Tensor& t, const std::string& path) {
  onnx::TensorProto tp;
  to_proto(t, &tp, path);
  std::string bytes;
  if (!tp.SerializeToString(&bytes)) fail(path, "protobuf serialization failed");
  write_file(path, bytes);
}

}  // namespace ristsim::io
