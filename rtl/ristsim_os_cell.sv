// ristsim_os_cell: one PE of an output-stationary array (docs/array.md).
//
// Algorithm: the activations of a pixel arrive from the west with first/last
// and the pixel's part of the output index, the weights of a channel from the
// north with its bias and the channel's part of the index; both are forwarded
// (east, south) through one register each, so the cell at (r, c) sees chunk t
// of its fold r + c cycles after the array's edge. The PE (ristsim_pe_core)
// multiplies the lanes enabled on both sides where both operands are valid,
// accumulates the chunks of its one output element and converts it after the
// last. Every cell of a driven row runs the PE on the row's first and last
// chunk (a padded row or column gives zero products), so that every slot of
// the fold produces a result at the same time; real_q remembers whether the
// slot is a real element (both operands valid at its last chunk).
// The drain: the cell's drain register takes the PE's result (all 0 for a
// padded slot) when it appears, and takes the drain register of the cell above
// (shift_i) while the column's bottom drain register is occupied: the column
// shifts its results out of the south edge, bottom row first, one per cycle.
// Cost: the PE, two forwarding register sets (K codes, lane enables, flags,
// the bias and the index parts) and one drain register of OutWidth + 4 bits.
module ristsim_os_cell #(
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
  parameter int unsigned ProdWidth      = 16,    // growth.h product_type(act, wgt)
  parameter int          ProdShift      = 0,     // product FL - F
  parameter int unsigned AlignWidth     = 16,    // growth.h aligned_type(product, F)
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
  input  logic                         clk_i,
  input  logic                         rst_ni,
  // from the west (activations)
  input  logic                         w_valid_i,
  input  logic                         w_first_i,
  input  logic                         w_last_i,
  input  logic [NumLanes-1:0]          w_lane_en_i,
  input  logic [NumLanes*ActWidth-1:0] w_code_i,
  input  logic [63:0]                  w_index_i,
  // from the north (weights)
  input  logic                         n_valid_i,
  input  logic [NumLanes-1:0]          n_lane_en_i,
  input  logic [NumLanes*WgtWidth-1:0] n_code_i,
  input  logic [BiasWidth-1:0]         n_bias_i,
  input  logic [63:0]                  n_index_i,
  input  logic [63:0]                  key_i,
  input  logic                         cfg_we_i,
  input  logic [31:0]                  cfg_fl_i,
  // to the east (registered copies of the west inputs)
  output logic                         e_valid_o,
  output logic                         e_first_o,
  output logic                         e_last_o,
  output logic [NumLanes-1:0]          e_lane_en_o,
  output logic [NumLanes*ActWidth-1:0] e_code_o,
  output logic [63:0]                  e_index_o,
  // to the south (registered copies of the north inputs)
  output logic                         s_valid_o,
  output logic [NumLanes-1:0]          s_lane_en_o,
  output logic [NumLanes*WgtWidth-1:0] s_code_o,
  output logic [BiasWidth-1:0]         s_bias_o,
  output logic [63:0]                  s_index_o,
  // the drain chain: {occupied, valid, sat, acc_ovf, out} of the cell above,
  // of this cell, and the column's shift (its bottom drain register occupied)
  input  logic                         shift_i,
  input  logic [OutWidth+3:0]          drain_i,
  output logic [OutWidth+3:0]          drain_o
);

  localparam int unsigned DrainWidth = OutWidth + 4;

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (NumLanes >= 1 && NumLanes <= 256 && OutWidth >= 1 && OutWidth <= 32)
      else $fatal(1, "ristsim_os_cell: NumLanes must be 1..256, OutWidth 1..32");
  end
`endif

  // The forwarding registers.
  always_ff @(posedge clk_i or negedge rst_ni) begin : p_forward
    if (!rst_ni) begin
      e_valid_o   <= 1'b0;
      e_first_o   <= 1'b0;
      e_last_o    <= 1'b0;
      e_lane_en_o <= '0;
      e_code_o    <= '0;
      e_index_o   <= '0;
      s_valid_o   <= 1'b0;
      s_lane_en_o <= '0;
      s_code_o    <= '0;
      s_bias_o    <= '0;
      s_index_o   <= '0;
    end else begin
      e_valid_o   <= w_valid_i;
      e_first_o   <= w_first_i;
      e_last_o    <= w_last_i;
      e_lane_en_o <= w_lane_en_i;
      e_code_o    <= w_code_i;
      e_index_o   <= w_index_i;
      s_valid_o   <= n_valid_i;
      s_lane_en_o <= n_lane_en_i;
      s_code_o    <= n_code_i;
      s_bias_o    <= n_bias_i;
      s_index_o   <= n_index_i;
    end
  end

  // The PE.
  logic                both_valid, pe_valid, res_valid, res_sat, res_acc_ovf;
  logic [NumLanes-1:0] lane_en;
  logic [OutWidth-1:0] res_out;
  assign both_valid = w_valid_i & n_valid_i;
  assign pe_valid   = both_valid | w_first_i | w_last_i;
  assign lane_en    = w_lane_en_i & n_lane_en_i & {NumLanes{both_valid}};

  ristsim_pe_core #(
    .NumLanes       (NumLanes),
    .PipeEvery      (PipeEvery),
    .ActKind        (ActKind),
    .ActSigned      (ActSigned),
    .ActWidth       (ActWidth),
    .ActExpBits     (ActExpBits),
    .ActMantBits    (ActMantBits),
    .ActSubnormals  (ActSubnormals),
    .ActZeroCode    (ActZeroCode),
    .WgtKind        (WgtKind),
    .WgtSigned      (WgtSigned),
    .WgtWidth       (WgtWidth),
    .WgtExpBits     (WgtExpBits),
    .WgtMantBits    (WgtMantBits),
    .WgtSubnormals  (WgtSubnormals),
    .WgtZeroCode    (WgtZeroCode),
    .BiasKind       (BiasKind),
    .BiasSigned     (BiasSigned),
    .BiasWidth      (BiasWidth),
    .BiasExpBits    (BiasExpBits),
    .BiasMantBits   (BiasMantBits),
    .BiasSubnormals (BiasSubnormals),
    .BiasZeroCode   (BiasZeroCode),
    .ProdWidth      (ProdWidth),
    .ProdShift      (ProdShift),
    .AlignWidth     (AlignWidth),
    .BiasFixedWidth (BiasFixedWidth),
    .BiasShift      (BiasShift),
    .BiasAlignWidth (BiasAlignWidth),
    .AlignRound     (AlignRound),
    .AccWidth       (AccWidth),
    .AccSaturate    (AccSaturate),
    .FracBits       (FracBits),
    .OutKind        (OutKind),
    .OutWidth       (OutWidth),
    .OutFl          (OutFl),
    .OutExpBits     (OutExpBits),
    .OutMantBits    (OutMantBits),
    .OutEmin        (OutEmin),
    .OutMaxMag      (OutMaxMag),
    .OutSpecialMag  (OutSpecialMag),
    .OutSubnormals  (OutSubnormals),
    .OutKeepSign    (OutKeepSign),
    .OutOvf         (OutOvf),
    .OutRound       (OutRound),
    .RandWidth      (RandWidth),
    .RuntimeFl      (RuntimeFl)
  ) u_pe (
    .clk_i    (clk_i),
    .rst_ni   (rst_ni),
    .valid_i  (pe_valid),
    .first_i  (w_first_i),
    .last_i   (w_last_i),
    .lane_en_i(lane_en),
    .act_i    (w_code_i),
    .wgt_i    (n_code_i),
    .bias_i   (n_bias_i),
    .index_i  (w_index_i + n_index_i),
    .key_i    (key_i),
    .cfg_we_i (cfg_we_i),
    .cfg_fl_i (cfg_fl_i),
    .valid_o  (res_valid),
    .out_o    (res_out),
    .sat_o    (res_sat),
    .acc_ovf_o(res_acc_ovf)
  );

  // real_q: the slot now in the PE's pipeline is a real element. The next
  // fold's last chunk comes long after this slot's result (docs/array.md).
  logic real_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin : p_real
    if (!rst_ni) begin
      real_q <= 1'b0;
    end else if (w_last_i) begin
      real_q <= both_valid;
    end
  end

  // The drain register.
  logic [DrainWidth-1:0] drain_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin : p_drain
    if (!rst_ni) begin
      drain_q <= '0;
    end else if (res_valid) begin
      drain_q <= real_q ? {2'b11, res_sat, res_acc_ovf, res_out} : {2'b10, {DrainWidth-2{1'b0}}};
    end else if (shift_i) begin
      drain_q <= drain_i;
    end
  end
  assign drain_o = drain_q;

`ifndef SYNTHESIS
  // A result appears only in an empty drain register (the column has shifted
  // the previous fold out) and never while the column shifts.
  always_ff @(posedge clk_i) begin : p_check_drain
    if (rst_ni && res_valid) begin
      assert (!shift_i) else $error("ristsim_os_cell: a result while the column drains");
    end
  end
`endif

endmodule
