// ristsim_mul_lane: one exact multiplier of the PE, chosen by the operand
// format families.
//
// Algorithm, by family (docs/datapath.md step 1; product in units of the
// exactly_fixed() quanta of both operands):
//   fixed x fixed        a signed ActWidth x WgtWidth multiplier (an unsigned
//                        operand, ActSigned / WgtSigned = 0, is zero-extended).
//   fixed x pow2         a barrel shifter: the fixed operand shifted left by the
//   (either order)       power of two's exponent field, negated by its sign bit,
//                        gated by its zero code.
//   any other pair       sign-magnitude: significand x significand (exact), the
//                        exponents added as one left shift, then the sign applied.
// ProdWidth is growth.h product_type() of the two formats (a parameter from the
// top); for fixed x fixed it must be ActWidth + WgtWidth (+ 1 when both are
// unsigned), which is checked here.
// Cost: one multiplier (or one shifter), O(1) delay.
module ristsim_mul_lane #(
  parameter int unsigned ActKind       = 0,  // 0 fixed, 1 minifloat, 2 pow2 (ristsim_decode)
  parameter bit          ActSigned     = 1'b1,  // fixed: two's complement (else unsigned)
  parameter int unsigned ActWidth      = 8,
  parameter int unsigned ActExpBits    = 0,
  parameter int unsigned ActMantBits   = 0,
  parameter bit          ActSubnormals = 1'b1,
  parameter bit          ActZeroCode   = 1'b1,
  parameter int unsigned WgtKind       = 0,
  parameter bit          WgtSigned     = 1'b1,
  parameter int unsigned WgtWidth      = 8,
  parameter int unsigned WgtExpBits    = 0,
  parameter int unsigned WgtMantBits   = 0,
  parameter bit          WgtSubnormals = 1'b1,
  parameter bit          WgtZeroCode   = 1'b1,
  parameter int unsigned ProdWidth     = 16
) (
  input  logic [ActWidth-1:0]  act_i,
  input  logic [WgtWidth-1:0]  wgt_i,
  output logic [ProdWidth-1:0] prod_o
);

  // Decoder widths of each operand (ristsim_decode's parameter rules).
  localparam int unsigned ActSigBits = ActKind == 0 ? ActWidth : ActKind == 1 ? ActMantBits + 1 : 1;
  localparam int unsigned ActShBits  = ActKind == 0 ? 1 : ActKind == 1 ? ActExpBits : ActWidth - 1;
  localparam int unsigned WgtSigBits = WgtKind == 0 ? WgtWidth : WgtKind == 1 ? WgtMantBits + 1 : 1;
  localparam int unsigned WgtShBits  = WgtKind == 0 ? 1 : WgtKind == 1 ? WgtExpBits : WgtWidth - 1;

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (ActKind != 0 || WgtKind != 0 ||
            ProdWidth == ActWidth + WgtWidth + ((ActSigned || WgtSigned) ? 0 : 1))
      else $fatal(1, "ristsim_mul_lane: a fixed x fixed product is ActWidth + WgtWidth bits");
    assert (ProdWidth >= 2 && ProdWidth <= 62)
      else $fatal(1, "ristsim_mul_lane: ProdWidth must be 2..62");
  end
`endif

  // A fixed-point operand one bit wider and signed: sign- or zero-extended.
  logic [ActWidth:0] act_x;
  logic [WgtWidth:0] wgt_x;
  assign act_x = {ActSigned & act_i[ActWidth-1], act_i};
  assign wgt_x = {WgtSigned & wgt_i[WgtWidth-1], wgt_i};
  logic unused_x;  // a minifloat or power-of-two operand takes the code itself
  assign unused_x = ^{act_x, wgt_x};

  if (ActKind == 0 && WgtKind == 0) begin : g_fixed_fixed
    assign prod_o = ProdWidth'($signed(act_x)) * ProdWidth'($signed(wgt_x));
  end else if ((ActKind == 0 && WgtKind == 2) || (ActKind == 2 && WgtKind == 0)) begin : g_shift
    // The power-of-two operand steers a barrel shifter over the fixed one.
    localparam bit          ShiftWgt = (WgtKind == 2);
    localparam int unsigned FixWidth = ShiftWgt ? ActWidth : WgtWidth;
    localparam int unsigned PowWidth = ShiftWgt ? WgtWidth : ActWidth;
    logic [FixWidth:0]    fix;
    logic [PowWidth-1:0]  pow;
    logic                 e_neg;
    logic [0:0]           e_sig;
    logic [PowWidth-2:0]  e_sh;
    logic [ProdWidth-1:0] shifted;
    if (ShiftWgt) begin : g_pow_wgt
      assign fix = act_x;
      assign pow = wgt_i;
    end else begin : g_pow_act
      assign fix = wgt_x;
      assign pow = act_i;
    end
    ristsim_decode #(
      .Kind      (2),
      .Width     (PowWidth),
      .ZeroCode  (ShiftWgt ? WgtZeroCode : ActZeroCode),
      .SigBits   (1),
      .ShBits    (PowWidth - 1)
    ) u_decode_pow (
      .code_i(pow),
      .neg_o (e_neg),
      .sig_o (e_sig),
      .sh_o  (e_sh)
    );
    assign shifted = ProdWidth'($signed(fix)) <<< e_sh;
    assign prod_o  = ~e_sig ? '0 : (e_neg ? -shifted : shifted);
  end else begin : g_sig_exp
    logic                  a_neg, w_neg;
    logic [ActSigBits-1:0] a_sig;
    logic [WgtSigBits-1:0] w_sig;
    logic [ActShBits-1:0]  a_sh;
    logic [WgtShBits-1:0]  w_sh;
    logic [ProdWidth-2:0]  mag;
    ristsim_decode #(
      .Kind      (ActKind),
      .Signed    (ActSigned),
      .Width     (ActWidth),
      .ExpBits   (ActExpBits),
      .MantBits  (ActMantBits),
      .Subnormals(ActSubnormals),
      .ZeroCode  (ActZeroCode),
      .SigBits   (ActSigBits),
      .ShBits    (ActShBits)
    ) u_decode_act (
      .code_i(act_i),
      .neg_o (a_neg),
      .sig_o (a_sig),
      .sh_o  (a_sh)
    );
    ristsim_decode #(
      .Kind      (WgtKind),
      .Signed    (WgtSigned),
      .Width     (WgtWidth),
      .ExpBits   (WgtExpBits),
      .MantBits  (WgtMantBits),
      .Subnormals(WgtSubnormals),
      .ZeroCode  (WgtZeroCode),
      .SigBits   (WgtSigBits),
      .ShBits    (WgtShBits)
    ) u_decode_wgt (
      .code_i(wgt_i),
      .neg_o (w_neg),
      .sig_o (w_sig),
      .sh_o  (w_sh)
    );
    // A fixed-point operand has no exponent: its shift is left out.
    if (ActKind != 0 && WgtKind != 0) begin : g_both_sh
      assign mag = (ProdWidth-1)'(a_sig) * (ProdWidth-1)'(w_sig)
                   << ((ProdWidth-1)'(a_sh) + (ProdWidth-1)'(w_sh));
    end else if (ActKind != 0) begin : g_act_sh
      logic unused_w_sh;
      assign unused_w_sh = ^w_sh;
      assign mag = (ProdWidth-1)'(a_sig) * (ProdWidth-1)'(w_sig) << (a_sh);
    end else begin : g_wgt_sh
      logic unused_a_sh;
      assign unused_a_sh = ^a_sh;
      assign mag = (ProdWidth-1)'(a_sig) * (ProdWidth-1)'(w_sig) << (w_sh);
    end
    assign prod_o = (a_neg ^ w_neg) ? -{1'b0, mag} : {1'b0, mag};
  end

endmodule
