// ristsim_pe_core: one processing element, a K-lane exact dot-product pipeline.
//
// Algorithm (docs/datapath.md, docs/rtl.md): stage 1 multiplies the K lanes
// (ristsim_mul_array) and aligns each product onto the accumulator grid 2^-F
// (ristsim_align), registered; stage 2 is the widening adder tree
// (ristsim_adder_tree, a register every PipeEvery levels); stage 3 the
// accumulator (first_i starts an output element, last_i ends it); stage 4
// decodes and aligns the bias, adds it and converts to the output format
// (ristsim_output_stage). A chunk entering at cycle t with last_i gives
// valid_o at cycle t + 3 + floor(ceil(log2 K) / PipeEvery) (t + 3 without tree
// registers). One chunk per cycle, no stalls.
// The parameters describe the formats (ristsim_decode's kinds); the widths
// ProdWidth, AlignWidth, BiasFixedWidth and BiasAlignWidth and the shifts
// ProdShift and BiasShift are growth.h's (docs/rtl.md lists what the top
// shares with the C++ models); every other width is derived here and in the
// blocks.
// RuntimeFl (arch runtime_fl): the layer's fractional lengths come from a
// configuration register in the output stage (cfg_we_i, cfg_fl_i), so one PE
// runs every layer of a dynamic fixed-point network.
// Cost: K multipliers, K - 1 adders, one accumulator and one output
// converter: O(K) area, O(log K) delay.
module ristsim_pe_core #(
  parameter int unsigned NumLanes       = 16,
  parameter int unsigned PipeEvery      = 1,
  parameter int unsigned ActKind        = 0,
  parameter bit          ActSigned      = 1'b1,  // fixed: two's complement (else unsigned)
  parameter int unsigned ActWidth       = 8,
  parameter int unsigned ActExpBits     = 0,
  parameter int unsigned ActMantBits    = 0,
  parameter bit          ActSubnormals  = 1'b1,
  parameter bit          ActZeroCode    = 1'b1,
  parameter int unsigned WgtKind        = 0,
  parameter bit          WgtSigned      = 1'b1,
  parameter int unsigned WgtWidth       = 8,
  parameter int unsigned WgtExpBits     = 0,
  parameter int unsigned WgtMantBits    = 0,
  parameter bit          WgtSubnormals  = 1'b1,
  parameter bit          WgtZeroCode    = 1'b1,
  parameter int unsigned BiasKind       = 0,
  parameter bit          BiasSigned     = 1'b1,
  parameter int unsigned BiasWidth      = 16,
  parameter int unsigned BiasExpBits    = 0,
  parameter int unsigned BiasMantBits   = 0,
  parameter bit          BiasSubnormals = 1'b1,
  parameter bit          BiasZeroCode   = 1'b1,
  parameter int unsigned ProdWidth      = 16,   // growth.h product_type(act, wgt)
  parameter int          ProdShift      = 0,    // product FL - F
  parameter int unsigned AlignWidth     = 16,   // growth.h aligned_type(product, F)
  parameter int unsigned BiasFixedWidth = 16,   // growth.h exactly_fixed(bias)
  parameter int          BiasShift      = 0,    // bias FL - F
  parameter int unsigned BiasAlignWidth = 16,   // growth.h aligned_type(bias, F)
  parameter int unsigned AlignRound     = 0,    // alignment rounding (ristsim_round_up's modes)
  parameter int unsigned AccWidth       = 32,
  parameter bit          AccSaturate    = 1'b1,
  parameter int          FracBits       = 0,    // F
  parameter int unsigned OutKind        = 0,    // ristsim_output_stage's parameters
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
  parameter bit          RuntimeFl      = 1'b0  // per-layer FLs from cfg_fl_i (output stage)
) (
  input  logic                         clk_i,
  input  logic                         rst_ni,
  input  logic                         valid_i,
  input  logic                         first_i,
  input  logic                         last_i,
  input  logic [NumLanes-1:0]          lane_en_i,
  input  logic [NumLanes*ActWidth-1:0] act_i,
  input  logic [NumLanes*WgtWidth-1:0] wgt_i,
  input  logic [BiasWidth-1:0]         bias_i,
  input  logic [63:0]                  index_i,
  input  logic [63:0]                  key_i,
  input  logic                         cfg_we_i,
  input  logic [31:0]                  cfg_fl_i,
  output logic                         valid_o,
  output logic [OutWidth-1:0]          out_o,
  output logic                         sat_o,
  output logic                         acc_ovf_o
);

  localparam int unsigned SumWidth   = AlignWidth + $clog2(NumLanes);  // growth.h sum_type
  localparam bit          Stochastic = (OutRound == 5);
  // The tag travels with a chunk: {first, last, bias code[, index when stochastic]}.
  localparam int unsigned IndexWidth  = Stochastic ? 64 : 0;
  localparam int unsigned TagWidth    = 2 + BiasWidth + IndexWidth;
  localparam int unsigned AccTagWidth = TagWidth - 2;

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (NumLanes >= 1 && NumLanes <= 256)
      else $fatal(1, "ristsim_pe_core: NumLanes must be 1..256");
    assert (SumWidth <= 62 && AccWidth <= 62 && BiasAlignWidth <= 62)
      else $fatal(1, "ristsim_pe_core: datapath wider than 62 bits");
    // A left-shift alignment grows by exactly the shift (ristsim_align checks both uses).
    assert (ProdShift > 0 || AlignWidth == ProdWidth - ProdShift)
      else $fatal(1, "ristsim_pe_core: AlignWidth is not ProdWidth + the left shift");
  end
`endif

  // Stage 1: multiply, align, register.
  logic [NumLanes*AlignWidth-1:0] prod_q;
  logic                           s1_valid_q;
  logic [TagWidth-1:0]            s1_tag_d, s1_tag_q;

  if (Stochastic) begin : g_tag_index
    assign s1_tag_d = {first_i, last_i, bias_i, index_i};
  end else begin : g_tag
    assign s1_tag_d = {first_i, last_i, bias_i};
    logic unused_index;
    assign unused_index = ^index_i;
  end
  ristsim_mul_stage #(
    .NumLanes      (NumLanes),
    .ActKind       (ActKind),
    .ActSigned     (ActSigned),
    .ActWidth      (ActWidth),
    .ActExpBits    (ActExpBits),
    .ActMantBits   (ActMantBits),
    .ActSubnormals (ActSubnormals),
    .ActZeroCode   (ActZeroCode),
    .WgtKind       (WgtKind),
    .WgtSigned     (WgtSigned),
    .WgtWidth      (WgtWidth),
    .WgtExpBits    (WgtExpBits),
    .WgtMantBits   (WgtMantBits),
    .WgtSubnormals (WgtSubnormals),
    .WgtZeroCode   (WgtZeroCode),
    .ProdWidth     (ProdWidth),
    .ProdShift     (ProdShift),
    .AlignWidth    (AlignWidth),
    .AlignRound    (AlignRound),
    .TagWidth      (TagWidth)
  ) u_mul_stage (
    .clk_i    (clk_i),
    .rst_ni   (rst_ni),
    .valid_i  (valid_i),
    .tag_i    (s1_tag_d),
    .lane_en_i(lane_en_i),
    .act_i    (act_i),
    .wgt_i    (wgt_i),
    .valid_o  (s1_valid_q),
    .tag_o    (s1_tag_q),
    .prod_o   (prod_q)
  );

  // Stage 2: the widening adder tree.
  logic                tree_valid;
  logic [TagWidth-1:0] tree_tag;
  logic [SumWidth-1:0] tree_sum;
  ristsim_adder_tree #(
    .NumLanes (NumLanes),
    .InWidth  (AlignWidth),
    .PipeEvery(PipeEvery),
    .TagWidth (TagWidth)
  ) u_adder_tree (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .valid_i(s1_valid_q),
    .tag_i  (s1_tag_q),
    .data_i (prod_q),
    .valid_o(tree_valid),
    .tag_o  (tree_tag),
    .sum_o  (tree_sum)
  );

  // Stage 3: the accumulator.
  logic                   acc_valid, acc_ovf;
  logic [AccWidth-1:0]    acc;
  logic [AccTagWidth-1:0] acc_tag;
  ristsim_accumulator #(
    .SumWidth(SumWidth),
    .AccWidth(AccWidth),
    .Saturate(AccSaturate),
    .TagWidth(AccTagWidth)
  ) u_accumulator (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .valid_i(tree_valid),
    .first_i(tree_tag[TagWidth-1]),
    .last_i (tree_tag[TagWidth-2]),
    .tag_i  (tree_tag[AccTagWidth-1:0]),
    .sum_i  (tree_sum),
    .valid_o(acc_valid),
    .acc_o  (acc),
    .ovf_o  (acc_ovf),
    .tag_o  (acc_tag)
  );

  // Stage 4: bias (decoded and aligned like a product), output conversion.
  // The bias on the accumulator grid: here for a fixed shift, in the output
  // stage for a run-time one (RuntimeFl: it gets the unaligned value).
  localparam int unsigned OutBiasWidth = RuntimeFl ? BiasFixedWidth : BiasAlignWidth;
  logic [OutBiasWidth-1:0] out_bias;
  logic [63:0]             out_index;
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
    .code_i(acc_tag[AccTagWidth-1 -: BiasWidth]),
    .val_o (out_bias)
  );
  if (Stochastic) begin : g_out_index
    assign out_index = acc_tag[63:0];
  end else begin : g_no_out_index
    assign out_index = '0;
  end

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
    .valid_i  (acc_valid),
    .acc_i    (acc),
    .acc_ovf_i(acc_ovf),
    .bias_i   (out_bias),
    .index_i  (out_index),
    .key_i    (key_i),
    .cfg_we_i (cfg_we_i),
    .cfg_fl_i (cfg_fl_i),
    .valid_o  (valid_o),
    .out_o    (out_o),
    .sat_o    (sat_o),
    .acc_ovf_o(acc_ovf_o)
  );

endmodule
