// ristsim_ws_cell: one PE of a weight- or input-stationary array (docs/array.md).
//
// Algorithm: the stationary register holds one chunk (K codes and their lane
// enables) of the stationary operand (weights; StatIsWgt = 0: activations, the
// input-stationary array); while load_i is high (the column's north valid) it
// takes the chunk of the cell above, so the column shifts its chunks in from
// the north, one cell per cycle. The streamed operand arrives from the west
// and is forwarded east through one register. Stage 1 (ristsim_mul_stage)
// multiplies the lanes enabled on both sides (none where the streamed operand
// is not valid) and aligns the products, registered; stage 2 is
// the widening adder tree (ristsim_adder_tree); the partial-sum register takes
// psum_out = ovf(psum_in + tree sum) on AccWidth bits (ristsim_ovf_add: the
// accumulator's saturate or wrap), with a sticky overflow flag. psum_in is the register of
// the cell above, which is one cycle ahead (the rows are skewed by one cycle),
// so the tree's pipeline is hidden; in the top row (Top) it is the north
// partial sum, sampled with the streamed operand and carried through the
// pipeline as the tree's tag, or 0 with psum_first. The partial sum's valid is
// the top row's streamed valid (the element exists), carried down the column.
// Cost: K multipliers, K - 1 adders, one AccWidth adder and register, the
// stationary and forwarding registers: O(K) area, O(log K) delay.
module ristsim_ws_cell #(
  parameter int unsigned NumLanes      = 16,
  parameter int unsigned PipeEvery     = 1,
  parameter int unsigned ActKind       = 0,
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
  parameter int unsigned ProdWidth     = 16,    // growth.h product_type(act, wgt)
  parameter int          ProdShift     = 0,     // product FL - F
  parameter int unsigned AlignWidth    = 16,    // growth.h aligned_type(product, F)
  parameter int unsigned AlignRound    = 0,     // alignment rounding (ristsim_round_up's modes)
  parameter int unsigned AccWidth      = 32,
  parameter bit          AccSaturate   = 1'b1,
  parameter bit          StatIsWgt  = 1'b1,  // the stationary operand: weights (else activations)
  parameter bit          Top        = 1'b0,  // the top row: psum_in from the north ports
  // Code widths of the streamed and the stationary operand.
  parameter int unsigned StrWidth   = StatIsWgt ? ActWidth : WgtWidth,
  parameter int unsigned StatWidth  = StatIsWgt ? WgtWidth : ActWidth
) (
  input  logic                          clk_i,
  input  logic                          rst_ni,
  // the streamed operand, from the west and registered to the east
  input  logic                          w_valid_i,
  input  logic [NumLanes-1:0]           w_lane_en_i,
  input  logic [NumLanes*StrWidth-1:0]  w_code_i,
  output logic                          e_valid_o,
  output logic [NumLanes-1:0]           e_lane_en_o,
  output logic [NumLanes*StrWidth-1:0]  e_code_o,
  // the stationary chunk: the load shift from the north, this cell's register
  input  logic                          load_i,
  input  logic [NumLanes-1:0]           n_lane_en_i,
  input  logic [NumLanes*StatWidth-1:0] n_code_i,
  output logic [NumLanes-1:0]           s_lane_en_o,
  output logic [NumLanes*StatWidth-1:0] s_code_o,
  // partial sums: from the cell above (Top: the north ports), to the one below
  input  logic                          n_psum_first_i,  // Top only
  input  logic                          n_psum_valid_i,  // not Top
  input  logic [AccWidth-1:0]           n_psum_i,
  input  logic                          n_psum_ovf_i,
  output logic                          psum_valid_o,
  output logic [AccWidth-1:0]           psum_o,
  output logic                          psum_ovf_o
);

  localparam int unsigned SumWidth = AlignWidth + $clog2(NumLanes);  // growth.h sum_type
  // Top: the north partial sum travels with the operand as the tree's tag.
  localparam int unsigned TagWidth = Top ? AccWidth + 2 : 1;

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (AccWidth >= 2 && AccWidth <= 62 && SumWidth <= 62)
      else $fatal(1, "ristsim_ws_cell: datapath wider than 62 bits");
    assert (StrWidth == (StatIsWgt ? ActWidth : WgtWidth) &&
            StatWidth == (StatIsWgt ? WgtWidth : ActWidth))
      else $fatal(1, "ristsim_ws_cell: StrWidth / StatWidth are the operands' code widths");
  end
`endif

  // The stationary and the forwarding registers.
  always_ff @(posedge clk_i or negedge rst_ni) begin : p_regs
    if (!rst_ni) begin
      s_lane_en_o <= '0;
      s_code_o    <= '0;
      e_valid_o   <= 1'b0;
      e_lane_en_o <= '0;
      e_code_o    <= '0;
    end else begin
      if (load_i) begin
        s_lane_en_o <= n_lane_en_i;
        s_code_o    <= n_code_i;
      end
      e_valid_o   <= w_valid_i;
      e_lane_en_o <= w_lane_en_i;
      e_code_o    <= w_code_i;
    end
  end

  // Stage 1: multiply, align, register.
  logic [NumLanes*ActWidth-1:0]   act;
  logic [NumLanes*WgtWidth-1:0]   wgt;
  logic [NumLanes-1:0]            lane_en;
  logic [NumLanes*AlignWidth-1:0] prod_q;
  logic                           s1_valid_q;
  logic [TagWidth-1:0]            s1_tag_d, s1_tag_q;
  if (StatIsWgt) begin : g_wgt_stationary
    assign act = w_code_i;
    assign wgt = s_code_o;
  end else begin : g_act_stationary
    assign act = s_code_o;
    assign wgt = w_code_i;
  end
  assign lane_en = w_lane_en_i & s_lane_en_o & {NumLanes{w_valid_i}};

  if (Top) begin : g_tag_psum
    assign s1_tag_d = {n_psum_first_i, n_psum_ovf_i, n_psum_i};
  end else begin : g_tag_none
    assign s1_tag_d = 1'b0;
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
    .valid_i  (w_valid_i),
    .tag_i    (s1_tag_d),
    .lane_en_i(lane_en),
    .act_i    (act),
    .wgt_i    (wgt),
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

  // The partial sum: psum_in + the tree sum (0 where the operand is not valid).
  logic                base_valid, base_ovf;
  logic [AccWidth-1:0] base;
  if (Top) begin : g_psum_north
    assign base_valid = tree_valid;
    assign base_ovf   = ~tree_tag[AccWidth+1] & tree_tag[AccWidth];
    assign base       = tree_tag[AccWidth+1] ? '0 : tree_tag[AccWidth-1:0];
    logic unused_north;
    assign unused_north = ^{n_psum_valid_i};
  end else begin : g_psum_above
    assign base_valid = n_psum_valid_i;
    assign base_ovf   = n_psum_ovf_i;
    assign base       = n_psum_i;
    logic unused_north;
    assign unused_north = ^{n_psum_first_i, tree_tag};
  end

  logic [AccWidth-1:0] psum_d;
  logic                add_ovf;
  ristsim_ovf_add #(
    .AWidth  (AccWidth),
    .BWidth  (SumWidth),
    .OutWidth(AccWidth),
    .Saturate(AccSaturate)
  ) u_psum_add (
    .a_i  (base),
    .b_i  (tree_valid ? tree_sum : '0),
    .sum_o(psum_d),
    .ovf_o(add_ovf)
  );

  always_ff @(posedge clk_i or negedge rst_ni) begin : p_psum
    if (!rst_ni) begin
      psum_valid_o <= 1'b0;
      psum_o       <= '0;
      psum_ovf_o   <= 1'b0;
    end else begin
      psum_valid_o <= base_valid;
      psum_o       <= psum_d;
      psum_ovf_o   <= base_ovf | add_ovf;
    end
  end

endmodule
