// ristsim_decode: one operand code as sign, unsigned significand and left shift.
//
// value = (-1)^neg_o * sig_o * 2^sh_o, in units of the exactly_fixed() quantum
// of the format (docs/datapath.md):
//   Kind 0 fixed       sig = |q| (Width bits: -2^(Width-1) -> 2^(Width-1)), no shift;
//                      unsigned (Signed = 0): sig = q, neg = 0
//   Kind 1 minifloat   sig = {normal, mantissa} (M + 1 bits), sh = field - 1 for a
//                      normal, 0 for field 0 (subnormal, or zero without subnormals)
//   Kind 2 pow2        sig = 1 (0 for the zero code), sh = field (- 1 with a zero code)
// Cost: a negation (fixed) or a comparator and a decrementer (minifloat, pow2);
// O(1) delay.
module ristsim_decode #(
  parameter int unsigned Kind       = 0,     // 0 fixed, 1 minifloat, 2 pow2
  parameter bit          Signed     = 1'b1,  // fixed: two's complement (else unsigned)
  parameter int unsigned Width      = 8,     // code bits
  parameter int unsigned ExpBits    = 0,     // minifloat E
  parameter int unsigned MantBits   = 0,     // minifloat M
  parameter bit          Subnormals = 1'b1,  // minifloat: field 0 is subnormal (else zero)
  parameter bit          ZeroCode   = 1'b1,  // pow2: field 0 is zero
  parameter int unsigned SigBits    = 8,     // Kind 0: Width; 1: M + 1; 2: 1
  parameter int unsigned ShBits     = 1      // Kind 0: 1 (always 0); 1: E; 2: Width - 1
) (
  input  logic [Width-1:0]   code_i,
  output logic               neg_o,
  output logic [SigBits-1:0] sig_o,
  output logic [ShBits-1:0]  sh_o
);

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (Kind <= 2) else $fatal(1, "ristsim_decode: Kind must be 0, 1 or 2");
    assert (Kind == 0 || Signed) else $fatal(1, "ristsim_decode: only fixed point is unsigned");
    assert (Kind != 0 || (SigBits == Width && ShBits == 1))
      else $fatal(1, "ristsim_decode: fixed point needs SigBits = Width, ShBits = 1");
    assert (Kind != 1 || (Width == ExpBits + MantBits + 1 && ExpBits >= 1 &&
                          SigBits == MantBits + 1 && ShBits == ExpBits))
      else $fatal(1, "ristsim_decode: minifloat widths: Width = E+M+1, SigBits = M+1, ShBits = E");
    assert (Kind != 2 || (Width >= 2 && SigBits == 1 && ShBits == Width - 1))
      else $fatal(1, "ristsim_decode: pow2 needs Width >= 2, SigBits = 1, ShBits = Width - 1");
  end
`endif

  if (Kind == 0 && Signed) begin : g_fixed
    assign neg_o = code_i[Width-1];
    assign sig_o = neg_o ? -code_i : code_i;  // |q|; -2^(Width-1) -> 2^(Width-1) unsigned
    assign sh_o  = '0;
  end else if (Kind == 0) begin : g_fixed_unsigned
    assign neg_o = 1'b0;
    assign sig_o = code_i;  // the code is the magnitude
    assign sh_o  = '0;
  end else if (Kind == 1) begin : g_minifloat
    logic [ExpBits-1:0] field;
    logic               normal;
    assign neg_o  = code_i[Width-1];
    assign field  = code_i[Width-2 -: ExpBits];
    assign normal = (field != '0);
    if (MantBits == 0) begin : g_no_mant
      assign sig_o = normal;  // field 0: 0 (subnormal or zero alike)
    end else if (Subnormals) begin : g_sub
      assign sig_o = {normal, code_i[MantBits-1:0]};  // field 0: subnormal
    end else begin : g_nosub
      assign sig_o = normal ? {1'b1, code_i[MantBits-1:0]} : '0;  // field 0: zero
    end
    assign sh_o = normal ? field - ExpBits'(1) : '0;
  end else begin : g_pow2
    if (ZeroCode) begin : g_zero_code
      logic zero;
      assign zero  = (code_i[Width-2:0] == '0);
      assign neg_o = code_i[Width-1] & ~zero;
      assign sig_o = ~zero;
      assign sh_o  = zero ? '0 : code_i[Width-2:0] - ShBits'(1);
    end else begin : g_no_zero_code
      assign neg_o = code_i[Width-1];
      assign sig_o = 1'b1;
      assign sh_o  = code_i[Width-2:0];
    end
  end

endmodule
