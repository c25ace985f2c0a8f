// ristsim_mul_stage: stage 1 of a PE, the K multipliers and the alignment of
// their products, registered.
//
// Algorithm: ristsim_mul_array multiplies the K lanes (a disabled lane gives
// 0), ristsim_align puts each product on the accumulator grid 2^-F
// (ProdShift = product FL - F, AlignRound), and one register takes the aligned
// products with valid_i and tag_i (what travels with the chunk). Used by the
// PE (ristsim_pe_core) and by the weight- / input-stationary array cell
// (ristsim_ws_cell).
// Cost: K multipliers (shifters for power-of-two operands) and K alignments,
// K x AlignWidth + TagWidth + 1 register bits: O(K) area, O(1) delay in K.
module ristsim_mul_stage #(
  parameter int unsigned NumLanes      = 16,
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
  parameter int unsigned TagWidth       = 1
) (
  input  logic                           clk_i,
  input  logic                           rst_ni,
  input  logic                           valid_i,
  input  logic [TagWidth-1:0]            tag_i,
  input  logic [NumLanes-1:0]            lane_en_i,
  input  logic [NumLanes*ActWidth-1:0]   act_i,
  input  logic [NumLanes*WgtWidth-1:0]   wgt_i,
  output logic                           valid_o,
  output logic [TagWidth-1:0]            tag_o,
  output logic [NumLanes*AlignWidth-1:0] prod_o
);

  logic [NumLanes*ProdWidth-1:0]  prod;
  logic [NumLanes*AlignWidth-1:0] prod_al;

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (NumLanes >= 1 && NumLanes <= 256)
      else $fatal(1, "ristsim_mul_stage: NumLanes must be 1..256");
    // A left-shift alignment grows by exactly the shift (ristsim_align checks it too).
    assert (ProdShift > 0 || AlignWidth == ProdWidth - ProdShift)
      else $fatal(1, "ristsim_mul_stage: AlignWidth is not ProdWidth + the left shift");
  end
`endif

  ristsim_mul_array #(
    .NumLanes     (NumLanes),
    .ActKind      (ActKind),
    .ActSigned    (ActSigned),
    .ActWidth     (ActWidth),
    .ActExpBits   (ActExpBits),
    .ActMantBits  (ActMantBits),
    .ActSubnormals(ActSubnormals),
    .ActZeroCode  (ActZeroCode),
    .WgtKind      (WgtKind),
    .WgtSigned    (WgtSigned),
    .WgtWidth     (WgtWidth),
    .WgtExpBits   (WgtExpBits),
    .WgtMantBits  (WgtMantBits),
    .WgtSubnormals(WgtSubnormals),
    .WgtZeroCode  (WgtZeroCode),
    .ProdWidth    (ProdWidth)
  ) u_mul_array (
    .act_i    (act_i),
    .wgt_i    (wgt_i),
    .lane_en_i(lane_en_i),
    .prod_o   (prod)
  );

  for (genvar i = 0; i < NumLanes; i++) begin : g_align
    ristsim_align #(
      .InWidth (ProdWidth),
      .OutWidth(AlignWidth),
      .Shift   (ProdShift),
      .Mode    (AlignRound)
    ) u_align (
      .val_i(prod[i*ProdWidth +: ProdWidth]),
      .val_o(prod_al[i*AlignWidth +: AlignWidth])
    );
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin : p_stage1
    if (!rst_ni) begin
      prod_o  <= '0;
      valid_o <= 1'b0;
      tag_o   <= '0;
    end else begin
      prod_o  <= prod_al;
      valid_o <= valid_i;
      tag_o   <= tag_i;
    end
  end

endmodule
