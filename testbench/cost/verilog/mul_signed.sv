// Signed multiplier: an AWidth x BWidth two's complement product, exactly
// AWidth + BWidth bits (sim/numeric/growth.h product_type). Combinational.
// Cost: O(AWidth * BWidth) area. Test design of the cost model's yosys
// cross-check (testbench/cost), standing in for a generated lane until
// sim/rtlgen emits one.
module mul_signed #(
  parameter int AWidth = 8,
  parameter int BWidth = 8
) (
  input  logic signed [AWidth-1:0]        a_i,
  input  logic signed [BWidth-1:0]        b_i,
  output logic signed [AWidth+BWidth-1:0] p_o
);
  assign p_o = a_i * b_i;
endmodule
