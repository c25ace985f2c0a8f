// ristsim_col_out: the south output stage of a weight- or input-stationary
// array column (docs/array.md).
//
// Algorithm: the partial sum leaving the column's bottom cell meets the
// column's south controls (last, the bias code, the element's index). With last, the bias is decoded and aligned
// (ristsim_bias_path) and ristsim_output_stage adds it and converts the sum to
// the output format (valid_o, out_o, sat_o, acc_ovf_o, registered); without,
// the partial sum leaves registered on psum_o for a later K fold
// (psum_valid_o). Every output port is 0 in a cycle where its valid is low.
// Cost: one output stage (an adder and the converter) and an AccWidth + 2-bit
// register per column.
module ristsim_col_out #(
  parameter int unsigned BiasKind       = 0,
  parameter bit          BiasSigned     = 1'b1,
  parameter int unsigned BiasWidth      = 16,
  parameter int unsigned BiasExpBits    = 0,
  parameter int unsigned BiasMantBits   = 0,
  parameter bit          BiasSubnormals = 1'b1,
  parameter bit          BiasZeroCode   = 1'b1,
  parameter int unsigned BiasFixedWidth = 16,    // growth.h exactly_fixed(bias)
  parameter int          BiasShift      = 0,     // bias FL - F
  parameter int unsigned BiasAlignWidth = 16,    // growth.h aligned_type(bias, F)
  parameter int unsigned AlignRound     = 0,     // alignment rounding (ristsim_round_up's modes)
  parameter int unsigned AccWidth       = 32,
  parameter bit          AccSaturate    = 1'b1,
  parameter int          FracBits       = 0,     // F
  parameter int unsigned OutKind        = 0,     // ristsim_output_stage's parameters
  parameter int unsigned OutWidth       = 8,
  parameter int          OutFl          = 0,
  parameter int unsigned OutExpBits     = 0,
  parameter int unsigned OutMantBits    = 0,
  parameter int          OutEmin        = 0,
  parameter int unsigned OutMaxMag      = 0,
  parameter int unsigned OutSpecialMag  = 0,
  parameter bit          OutSubnormals  = 1'b1,
  parameter bit          OutKeepSign    = 1'b0,
  parameter int unsigned OutOvf         = 0,
  parameter int unsigned OutRound       = 0,
  parameter int unsigned RandWidth      = 16,
  parameter bit          RuntimeFl      = 1'b0   // per-layer FLs from cfg_fl_i (output stage)
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,
  // from the column's bottom cell
  input  logic                 psum_valid_i,
  input  logic [AccWidth-1:0]  psum_i,
  input  logic                 psum_ovf_i,
  // the column's south controls
  input  logic                 last_i,
  input  logic [BiasWidth-1:0] bias_i,
  input  logic [63:0]          index_i,
  input  logic [63:0]          key_i,
  input  logic                 cfg_we_i,
  input  logic [31:0]          cfg_fl_i,
  output logic                 valid_o,
  output logic [OutWidth-1:0]  out_o,
  output logic                 sat_o,
  output logic                 acc_ovf_o,
  output logic                 psum_valid_o,
  output logic [AccWidth-1:0]  psum_o,
  output logic                 psum_ovf_o
);

  localparam int unsigned OutBiasWidth = RuntimeFl ? BiasFixedWidth : BiasAlignWidth;

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (AccWidth >= 2 && AccWidth <= 62)
      else $fatal(1, "ristsim_col_out: AccWidth must be 2..62");
  end
`endif

  logic                    psum_out, conv_valid, conv_sat, conv_acc_ovf;
  logic [OutWidth-1:0]     conv_out;
  logic [OutBiasWidth-1:0] bias;
  assign psum_out = psum_valid_i & ~last_i;

  ristsim_bias_path #(
    .Kind      (BiasKind),
    .Signed    (BiasSigned),
    .CodeWidth (BiasWidth),
    .ExpBits   (BiasExpBits),
    .MantBits  (BiasMantBits),
    .Subnormals(BiasSubnormals),
    .ZeroCode  (BiasZeroCode),
    .FixedWidth(BiasFixedWidth),
    .Shift     (BiasShift),
    .AlignWidth(BiasAlignWidth),
    .AlignRound(AlignRound),
    .RuntimeFl (RuntimeFl),
    .OutWidth  (OutBiasWidth)
  ) u_bias_path (
    .code_i(bias_i),
    .val_o (bias)
  );

  ristsim_output_stage #(
    .AccWidth     (AccWidth),
    .BiasWidth    (OutBiasWidth),
    .Saturate     (AccSaturate),
    .FracBits     (FracBits),
    .OutKind      (OutKind),
    .OutWidth     (OutWidth),
    .OutFl        (OutFl),
    .OutExpBits   (OutExpBits),
    .OutMantBits  (OutMantBits),
    .OutEmin      (OutEmin),
    .OutMaxMag    (OutMaxMag),
    .OutSpecialMag(OutSpecialMag),
    .OutSubnormals(OutSubnormals),
    .OutKeepSign  (OutKeepSign),
    .OutOvf       (OutOvf),
    .OutRound     (OutRound),
    .RandWidth    (RandWidth),
    .RuntimeFl    (RuntimeFl),
    .AlignRound   (AlignRound)
  ) u_output_stage (
    .clk_i    (clk_i),
    .rst_ni   (rst_ni),
    .valid_i  (psum_valid_i & last_i),
    .acc_i    (psum_i),
    .acc_ovf_i(psum_ovf_i),
    .bias_i   (bias),
    .index_i  (index_i),
    .key_i    (key_i),
    .cfg_we_i (cfg_we_i),
    .cfg_fl_i (cfg_fl_i),
    .valid_o  (conv_valid),
    .out_o    (conv_out),
    .sat_o    (conv_sat),
    .acc_ovf_o(conv_acc_ovf)
  );
  // The output stage holds its last result; the column shows 0 between results.
  assign valid_o   = conv_valid;
  assign out_o     = conv_valid ? conv_out : '0;
  assign sat_o     = conv_valid & conv_sat;
  assign acc_ovf_o = conv_valid & conv_acc_ovf;

  always_ff @(posedge clk_i or negedge rst_ni) begin : p_psum
    if (!rst_ni) begin
      psum_valid_o <= 1'b0;
      psum_o       <= '0;
      psum_ovf_o   <= 1'b0;
    end else begin
      psum_valid_o <= psum_out;
      psum_o       <= psum_out ? psum_i : '0;
      psum_ovf_o   <= psum_out & psum_ovf_i;
    end
  end

endmodule
