// ristsim_pe_array: a Rows x Cols systolic array of PEs (docs/array.md).
//
// Algorithm, by Dataflow (SCALE-Sim's three):
//   0 output stationary: activations enter at the west (with first/last and
//     the pixel's part of the output index), weights at the north (with the
//     bias and the channel's part of the index); both are forwarded one cell
//     per cycle (ristsim_os_cell); each cell accumulates and converts its own
//     output element, and each column shifts its results out of the south
//     edge through the cells' drain registers, bottom row first.
//   1 weight stationary: the north loads weight chunks into the cells'
//     stationary registers (north_valid_i: shift one cell south); activations
//     stream from the west; partial sums flow south, one register per cell
//     (ristsim_ws_cell), entering the top row from the north ports (an earlier
//     K fold's, or 0 with psum_first); each column's south stage
//     (ristsim_col_out) converts with its south controls, or passes the
//     partial sum out for a later fold.
//   2 input stationary: as 1 with the operands' roles swapped (the north
//     loads activation chunks, weights stream from the west).
// Port vectors are per row (west_*) or per column (north_*, south_*, the
// outputs), row / column i at bits [i*W +: W]. The PE parameters are
// ristsim_pe_core's; every other width is derived here and in the cells.
// Cost: Rows x Cols PEs (multipliers, tree, accumulator or partial-sum adder,
// the forwarding registers) plus an output stage per PE (0) or per column
// (1, 2): O(Rows Cols K) area, O(log K) delay between registers.
module ristsim_pe_array #(
  parameter int unsigned Rows     = 2,
  parameter int unsigned Cols     = 2,
  parameter int unsigned Dataflow = 0,  // 0 output, 1 weight, 2 input stationary
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
  parameter bit          RuntimeFl      = 1'b0,  // per-layer FLs from cfg_fl_i (output stage)
  // Code widths at the west and the north edge.
  parameter int unsigned WestWidth  = Dataflow == 2 ? WgtWidth : ActWidth,
  parameter int unsigned NorthWidth = Dataflow == 2 ? ActWidth : WgtWidth
) (
  input  logic                              clk_i,
  input  logic                              rst_ni,
  input  logic [Rows-1:0]                   west_valid_i,
  input  logic [Rows-1:0]                   west_first_i,  // output stationary
  input  logic [Rows-1:0]                   west_last_i,   // output stationary
  input  logic [Rows*NumLanes-1:0]          west_lane_en_i,
  input  logic [Rows*NumLanes*WestWidth-1:0] west_code_i,
  input  logic [Rows*64-1:0]                west_index_i,  // output stationary
  input  logic [Cols-1:0]                   north_valid_i,
  input  logic [Cols*NumLanes-1:0]          north_lane_en_i,
  input  logic [Cols*NumLanes*NorthWidth-1:0] north_code_i,
  input  logic [Cols*BiasWidth-1:0]         north_bias_i,   // output stationary
  input  logic [Cols*64-1:0]                north_index_i,  // output stationary
  input  logic [Cols-1:0]                   north_psum_first_i,  // weight/input stationary
  input  logic [Cols*AccWidth-1:0]          north_psum_i,
  input  logic [Cols-1:0]                   north_psum_ovf_i,
  input  logic [Cols-1:0]                   south_last_i,  // weight/input stationary
  input  logic [Cols*BiasWidth-1:0]         south_bias_i,
  input  logic [Cols*64-1:0]                south_index_i,
  input  logic [63:0]                       key_i,
  input  logic                              cfg_we_i,
  input  logic [31:0]                       cfg_fl_i,
  output logic [Cols-1:0]                   valid_o,
  output logic [Cols*OutWidth-1:0]          out_o,
  output logic [Cols-1:0]                   sat_o,
  output logic [Cols-1:0]                   acc_ovf_o,
  output logic [Cols-1:0]                   psum_valid_o,  // weight/input stationary
  output logic [Cols*AccWidth-1:0]          psum_o,
  output logic [Cols-1:0]                   psum_ovf_o
);

  localparam int unsigned K = NumLanes;

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (Rows >= 1 && Cols >= 1 && Rows <= 256 && Cols <= 256)
      else $fatal(1, "ristsim_pe_array: Rows and Cols must be 1..256");
    assert (Dataflow <= 2) else $fatal(1, "ristsim_pe_array: Dataflow must be 0, 1 or 2");
    assert (WestWidth == (Dataflow == 2 ? WgtWidth : ActWidth) &&
            NorthWidth == (Dataflow == 2 ? ActWidth : WgtWidth))
      else $fatal(1, "ristsim_pe_array: WestWidth / NorthWidth are the operands' code widths");
  end
`endif

  if (Dataflow == 0) begin : g_os
    localparam int unsigned DW = OutWidth + 4;  // a drain word: {occupied, valid, sat, acc_ovf, out}
    localparam int unsigned HN = Rows * (Cols + 1);  // west-east nets: (r, c) at r*(Cols+1) + c
    localparam int unsigned VN = (Rows + 1) * Cols;  // north-south nets: (r, c) at r*Cols + c
    logic [HN-1:0]           h_valid, h_first, h_last;
    logic [HN*K-1:0]         h_lane_en;
    logic [HN*K*ActWidth-1:0] h_code;
    logic [HN*64-1:0]        h_index;
    logic [VN-1:0]           v_valid;
    logic [VN*K-1:0]         v_lane_en;
    logic [VN*K*WgtWidth-1:0] v_code;
    logic [VN*BiasWidth-1:0] v_bias;
    logic [VN*64-1:0]        v_index;
    logic [VN*DW-1:0]        drain;
    for (genvar r = 0; r < Rows; r++) begin : g_west
      localparam int unsigned H = r * (Cols + 1);
      assign h_valid[H]                              = west_valid_i[r];
      assign h_first[H]                              = west_first_i[r];
      assign h_last[H]                               = west_last_i[r];
      assign h_lane_en[H*K +: K]                     = west_lane_en_i[r*K +: K];
      assign h_code[H*K*ActWidth +: K*ActWidth]      = west_code_i[r*K*ActWidth +: K*ActWidth];
      assign h_index[H*64 +: 64]                     = west_index_i[r*64 +: 64];
    end
    for (genvar c = 0; c < Cols; c++) begin : g_north
      assign v_valid[c]                         = north_valid_i[c];
      assign v_lane_en[c*K +: K]                = north_lane_en_i[c*K +: K];
      assign v_code[c*K*WgtWidth +: K*WgtWidth] = north_code_i[c*K*WgtWidth +: K*WgtWidth];
      assign v_bias[c*BiasWidth +: BiasWidth]   = north_bias_i[c*BiasWidth +: BiasWidth];
      assign v_index[c*64 +: 64]                = north_index_i[c*64 +: 64];
      assign drain[c*DW +: DW]                  = '0;  // nothing above the top row
    end
    for (genvar r = 0; r < Rows; r++) begin : g_row
      for (genvar c = 0; c < Cols; c++) begin : g_col
        localparam int unsigned H = r * (Cols + 1) + c;  // the west input
        localparam int unsigned V = r * Cols + c;        // the north input
        ristsim_os_cell #(
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
        ) u_cell (
          .clk_i      (clk_i),
          .rst_ni     (rst_ni),
          .w_valid_i  (h_valid[H]),
          .w_first_i  (h_first[H]),
          .w_last_i   (h_last[H]),
          .w_lane_en_i(h_lane_en[H*K +: K]),
          .w_code_i   (h_code[H*K*ActWidth +: K*ActWidth]),
          .w_index_i  (h_index[H*64 +: 64]),
          .n_valid_i  (v_valid[V]),
          .n_lane_en_i(v_lane_en[V*K +: K]),
          .n_code_i   (v_code[V*K*WgtWidth +: K*WgtWidth]),
          .n_bias_i   (v_bias[V*BiasWidth +: BiasWidth]),
          .n_index_i  (v_index[V*64 +: 64]),
          .key_i      (key_i),
          .cfg_we_i   (cfg_we_i),
          .cfg_fl_i   (cfg_fl_i),
          .e_valid_o  (h_valid[H+1]),
          .e_first_o  (h_first[H+1]),
          .e_last_o   (h_last[H+1]),
          .e_lane_en_o(h_lane_en[(H+1)*K +: K]),
          .e_code_o   (h_code[(H+1)*K*ActWidth +: K*ActWidth]),
          .e_index_o  (h_index[(H+1)*64 +: 64]),
          .s_valid_o  (v_valid[V+Cols]),
          .s_lane_en_o(v_lane_en[(V+Cols)*K +: K]),
          .s_code_o   (v_code[(V+Cols)*K*WgtWidth +: K*WgtWidth]),
          .s_bias_o   (v_bias[(V+Cols)*BiasWidth +: BiasWidth]),
          .s_index_o  (v_index[(V+Cols)*64 +: 64]),
          .shift_i    (drain[(Rows*Cols+c)*DW + DW-1]),
          .drain_i    (drain[V*DW +: DW]),
          .drain_o    (drain[(V+Cols)*DW +: DW])
        );
      end
    end
    // The south edge: the bottom drain registers.
    for (genvar c = 0; c < Cols; c++) begin : g_south
      localparam int unsigned D = (Rows * Cols + c) * DW;
      assign valid_o[c]                     = drain[D + DW-2];
      assign sat_o[c]                       = drain[D + DW-3];
      assign acc_ovf_o[c]                   = drain[D + DW-4];
      assign out_o[c*OutWidth +: OutWidth]  = drain[D +: OutWidth];
    end
    assign psum_valid_o = '0;
    assign psum_o       = '0;
    assign psum_ovf_o   = '0;
    // The east and south edges' forwarded values leave the array unused.
    logic unused_os;
    assign unused_os = ^{north_psum_first_i, north_psum_i, north_psum_ovf_i, south_last_i,
                         south_bias_i, south_index_i, h_valid, h_first, h_last,
                         h_lane_en, h_code, h_index, v_valid, v_lane_en, v_code, v_bias, v_index};
  end else begin : g_ws
    // Weight stationary (1) or input stationary (2).
    localparam bit          StatIsWgt = Dataflow == 1;
    localparam int unsigned HN = Rows * (Cols + 1);
    localparam int unsigned VN = (Rows + 1) * Cols;
    logic [HN-1:0]             h_valid;
    logic [HN*K-1:0]           h_lane_en;
    logic [HN*K*WestWidth-1:0] h_code;
    logic [VN*K-1:0]            v_lane_en;
    logic [VN*K*NorthWidth-1:0] v_code;
    logic [VN-1:0]              p_valid, p_ovf;
    logic [VN*AccWidth-1:0]     p_sum;
    for (genvar r = 0; r < Rows; r++) begin : g_west
      localparam int unsigned H = r * (Cols + 1);
      assign h_valid[H]                           = west_valid_i[r];
      assign h_lane_en[H*K +: K]                  = west_lane_en_i[r*K +: K];
      assign h_code[H*K*WestWidth +: K*WestWidth] = west_code_i[r*K*WestWidth +: K*WestWidth];
    end
    for (genvar c = 0; c < Cols; c++) begin : g_north
      assign v_lane_en[c*K +: K]                    = north_lane_en_i[c*K +: K];
      assign v_code[c*K*NorthWidth +: K*NorthWidth] = north_code_i[c*K*NorthWidth +: K*NorthWidth];
      assign p_valid[c]                             = 1'b0;  // the top row has its own
      assign p_sum[c*AccWidth +: AccWidth]          = north_psum_i[c*AccWidth +: AccWidth];
      assign p_ovf[c]                               = north_psum_ovf_i[c];
    end
    for (genvar r = 0; r < Rows; r++) begin : g_row
      for (genvar c = 0; c < Cols; c++) begin : g_col
        localparam int unsigned H = r * (Cols + 1) + c;
        localparam int unsigned V = r * Cols + c;
        ristsim_ws_cell #(
          .NumLanes      (NumLanes),
          .PipeEvery     (PipeEvery),
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
          .AccWidth      (AccWidth),
          .AccSaturate   (AccSaturate),
          .StatIsWgt    (StatIsWgt),
          .Top          (r == 0)
        ) u_cell (
          .clk_i         (clk_i),
          .rst_ni        (rst_ni),
          .w_valid_i     (h_valid[H]),
          .w_lane_en_i   (h_lane_en[H*K +: K]),
          .w_code_i      (h_code[H*K*WestWidth +: K*WestWidth]),
          .e_valid_o     (h_valid[H+1]),
          .e_lane_en_o   (h_lane_en[(H+1)*K +: K]),
          .e_code_o      (h_code[(H+1)*K*WestWidth +: K*WestWidth]),
          .load_i        (north_valid_i[c]),
          .n_lane_en_i   (v_lane_en[V*K +: K]),
          .n_code_i      (v_code[V*K*NorthWidth +: K*NorthWidth]),
          .s_lane_en_o   (v_lane_en[(V+Cols)*K +: K]),
          .s_code_o      (v_code[(V+Cols)*K*NorthWidth +: K*NorthWidth]),
          .n_psum_first_i(north_psum_first_i[c]),
          .n_psum_valid_i(p_valid[V]),
          .n_psum_i      (p_sum[V*AccWidth +: AccWidth]),
          .n_psum_ovf_i  (p_ovf[V]),
          .psum_valid_o  (p_valid[V+Cols]),
          .psum_o        (p_sum[(V+Cols)*AccWidth +: AccWidth]),
          .psum_ovf_o    (p_ovf[V+Cols])
        );
      end
    end
    for (genvar c = 0; c < Cols; c++) begin : g_south
      localparam int unsigned B = Rows * Cols + c;  // the bottom cell's partial sum
      ristsim_col_out #(
        .BiasKind       (BiasKind),
        .BiasSigned     (BiasSigned),
        .BiasWidth      (BiasWidth),
        .BiasExpBits    (BiasExpBits),
        .BiasMantBits   (BiasMantBits),
        .BiasSubnormals (BiasSubnormals),
        .BiasZeroCode   (BiasZeroCode),
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
      ) u_col_out (
        .clk_i       (clk_i),
        .rst_ni      (rst_ni),
        .psum_valid_i(p_valid[B]),
        .psum_i      (p_sum[B*AccWidth +: AccWidth]),
        .psum_ovf_i  (p_ovf[B]),
        .last_i      (south_last_i[c]),
        .bias_i      (south_bias_i[c*BiasWidth +: BiasWidth]),
        .index_i     (south_index_i[c*64 +: 64]),
        .key_i       (key_i),
        .cfg_we_i    (cfg_we_i),
        .cfg_fl_i    (cfg_fl_i),
        .valid_o     (valid_o[c]),
        .out_o       (out_o[c*OutWidth +: OutWidth]),
        .sat_o       (sat_o[c]),
        .acc_ovf_o   (acc_ovf_o[c]),
        .psum_valid_o(psum_valid_o[c]),
        .psum_o      (psum_o[c*AccWidth +: AccWidth]),
        .psum_ovf_o  (psum_ovf_o[c])
      );
    end
    logic unused_ws;
    assign unused_ws = ^{west_first_i, west_last_i, west_index_i, north_bias_i, north_index_i,
                         h_valid, h_lane_en, h_code, v_lane_en, v_code, p_valid[Cols-1:0]};
  end

endmodule
