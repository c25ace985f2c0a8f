// ristsim_to_fixed: a code as the integer of its exactly_fixed() type.
//
// Algorithm: fixed point passes through (zero-extended by one bit when
// unsigned); a minifloat or power of two is its
// significand shifted left by its exponent field, then negated by its sign
// (ristsim_decode). OutWidth is growth.h exactly_fixed() of the format.
// Cost: one barrel shifter and one negation, O(1) delay.
module ristsim_to_fixed #(
  parameter int unsigned Kind       = 0,  // 0 fixed, 1 minifloat, 2 pow2 (ristsim_decode)
  parameter bit          Signed     = 1'b1,  // fixed: two's complement (else unsigned)
  parameter int unsigned CodeWidth  = 16,
  parameter int unsigned ExpBits    = 0,
  parameter int unsigned MantBits   = 0,
  parameter bit          Subnormals = 1'b1,
  parameter bit          ZeroCode   = 1'b1,
  parameter int unsigned OutWidth   = 16
) (
  input  logic [CodeWidth-1:0] code_i,
  output logic [OutWidth-1:0]  val_o
);

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (Kind != 0 || OutWidth == CodeWidth + (Signed ? 0 : 1))
      else $fatal(1, "ristsim_to_fixed: a fixed-point code is its own integer");
  end
`endif

  if (Kind == 0 && Signed) begin : g_fixed
    assign val_o = code_i;
  end else if (Kind == 0) begin : g_fixed_unsigned
    assign val_o = {1'b0, code_i};
  end else begin : g_decode
    localparam int unsigned SigBits = Kind == 1 ? MantBits + 1 : 1;
    localparam int unsigned ShBits  = Kind == 1 ? ExpBits : CodeWidth - 1;
    logic               b_neg;
    logic [SigBits-1:0] b_sig;
    logic [ShBits-1:0]  b_sh;
    logic [OutWidth-1:0] mag;
    ristsim_decode #(
      .Kind      (Kind),
      .Width     (CodeWidth),
      .ExpBits   (ExpBits),
      .MantBits  (MantBits),
      .Subnormals(Subnormals),
      .ZeroCode  (ZeroCode),
      .SigBits   (SigBits),
      .ShBits    (ShBits)
    ) u_decode (
      .code_i(code_i),
      .neg_o (b_neg),
      .sig_o (b_sig),
      .sh_o  (b_sh)
    );
    assign mag   = OutWidth'(b_sig) << b_sh;
    assign val_o = b_neg ? -mag : mag;
  end

endmodule
