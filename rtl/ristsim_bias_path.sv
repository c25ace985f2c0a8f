// ristsim_bias_path: a bias code as the output stage wants it.
//
// Algorithm: the code's exactly_fixed() integer (ristsim_to_fixed), then on the
// accumulator grid 2^-F by a fixed shift (ristsim_align, AlignRound), or, with
// RuntimeFl, unaligned: the output stage shifts it by the layer's bias - F at
// run time. Used by the PE (ristsim_pe_core, stage 4) and by the south output
// stage of a weight- or input-stationary array column (ristsim_col_out).
// Cost: one barrel shifter and one negation (non-fixed codes), O(1) delay.
module ristsim_bias_path #(
  parameter int unsigned Kind       = 0,  // ristsim_decode's kinds
  parameter bit          Signed     = 1'b1,
  parameter int unsigned CodeWidth  = 16,
  parameter int unsigned ExpBits    = 0,
  parameter int unsigned MantBits   = 0,
  parameter bit          Subnormals = 1'b1,
  parameter bit          ZeroCode   = 1'b1,
  parameter int unsigned FixedWidth = 16,  // growth.h exactly_fixed(bias)
  parameter int          Shift      = 0,   // bias FL - F
  parameter int unsigned AlignWidth = 16,  // growth.h aligned_type(bias, F)
  parameter int unsigned AlignRound = 0,
  parameter bit          RuntimeFl  = 1'b0,
  // The output width: the aligned bias, or (RuntimeFl) the unaligned integer.
  parameter int unsigned OutWidth   = RuntimeFl ? FixedWidth : AlignWidth
) (
  input  logic [CodeWidth-1:0] code_i,
  output logic [OutWidth-1:0]  val_o
);

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (OutWidth == (RuntimeFl ? FixedWidth : AlignWidth))
      else $fatal(1, "ristsim_bias_path: OutWidth is the aligned (or, runtime_fl, fixed) width");
  end
`endif

  logic [FixedWidth-1:0] fixed;
  ristsim_to_fixed #(
    .Kind      (Kind),
    .Signed    (Signed),
    .CodeWidth (CodeWidth),
    .ExpBits   (ExpBits),
    .MantBits  (MantBits),
    .Subnormals(Subnormals),
    .ZeroCode  (ZeroCode),
    .OutWidth  (FixedWidth)
  ) u_to_fixed (
    .code_i(code_i),
    .val_o (fixed)
  );
  if (RuntimeFl) begin : g_runtime
    assign val_o = OutWidth'(fixed);
  end else begin : g_align
    ristsim_align #(
      .InWidth (FixedWidth),
      .OutWidth(OutWidth),
      .Shift   (Shift),
      .Mode    (AlignRound)
    ) u_align (
      .val_i(fixed),
      .val_o(val_o)
    );
  end

endmodule
