// ristsim_mul_array: the PE's K exact multipliers.
//
// Algorithm: NumLanes ristsim_mul_lane instances, lane i on
// act_i[i*ActWidth +: ActWidth] and wgt_i[i*WgtWidth +: WgtWidth]. A disabled
// lane (lane_en_i low: chunk padding, a padded input position, a format without
// a zero code) gives a zero product.
// Cost: K multipliers (shifters for power-of-two operands), O(K) area, O(1)
// delay in K.
module ristsim_mul_array #(
  parameter int unsigned NumLanes      = 16,
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
  parameter int unsigned ProdWidth     = 16  // growth.h product_type(act, wgt)
) (
  input  logic [NumLanes*ActWidth-1:0]  act_i,
  input  logic [NumLanes*WgtWidth-1:0]  wgt_i,
  input  logic [NumLanes-1:0]           lane_en_i,
  output logic [NumLanes*ProdWidth-1:0] prod_o
);

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (NumLanes >= 1 && NumLanes <= 256)
      else $fatal(1, "ristsim_mul_array: NumLanes must be 1..256");
  end
`endif

  for (genvar i = 0; i < NumLanes; i++) begin : g_lane
    logic [ProdWidth-1:0] prod;
    ristsim_mul_lane #(
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
    ) u_lane (
      .act_i (act_i[i*ActWidth +: ActWidth]),
      .wgt_i (wgt_i[i*WgtWidth +: WgtWidth]),
      .prod_o(prod)
    );
    assign prod_o[i*ProdWidth +: ProdWidth] = lane_en_i[i] ? prod : '0;
  end

endmodule
