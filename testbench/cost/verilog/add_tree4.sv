// Widening adder tree over 4 signed Width-bit inputs: level 1 adds pairs into
// Width+1 bits, level 2 into Width+2 bits (growth.h tree_level_type); a pipeline
// register after level 1. Cost: (K-1)(w0+1) - log2 K = 3*(Width+1) - 2 adder bits,
// O(N) area and O(log N) delay. Test design of the cost model's yosys cross-check.
module add_tree4 #(
  parameter int Width = 16
) (
  input  logic                    clk_i,
  input  logic signed [Width-1:0] x0_i,
  input  logic signed [Width-1:0] x1_i,
  input  logic signed [Width-1:0] x2_i,
  input  logic signed [Width-1:0] x3_i,
  output logic signed [Width+1:0] sum_o
);
  logic signed [Width:0] s0_d, s1_d, s0_q, s1_q;
  assign s0_d = x0_i + x1_i;
  assign s1_d = x2_i + x3_i;
  always_ff @(posedge clk_i) begin
    s0_q <= s0_d;
    s1_q <= s1_d;
  end
  assign sum_o = s0_q + s1_q;
endmodule
