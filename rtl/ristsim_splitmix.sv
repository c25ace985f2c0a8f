// ristsim_splitmix: the random bits of stochastic rounding (sim/numeric/random.h).
//
// Algorithm: output number index_i of a SplitMix64 generator whose state
// starts at key_i = stream_key(seed, stream):
//   z = key + (index + 1) * 0x9E3779B97F4A7C15
//   z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27;
//   z *= 0x94D049BB133111EB; z ^= z >> 31;   rand = z[63 -: RandWidth]
// Cost: three 64 x 64 constant multipliers (low halves), O(1) in K.
module ristsim_splitmix #(
  parameter int unsigned RandWidth = 16
) (
  input  logic [63:0]          key_i,
  input  logic [63:0]          index_i,
  output logic [RandWidth-1:0] rand_o
);

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (RandWidth >= 1 && RandWidth <= 32)
      else $fatal(1, "ristsim_splitmix: RandWidth must be 1..32");
  end
`endif

  logic [63:0] z0, z1, z2, z3, z4, z5;
  assign z0 = key_i + (index_i + 64'd1) * 64'h9e3779b97f4a7c15;
  assign z1 = z0 ^ (z0 >> 30);
  assign z2 = z1 * 64'hbf58476d1ce4e5b9;
  assign z3 = z2 ^ (z2 >> 27);
  assign z4 = z3 * 64'h94d049bb133111eb;
  assign z5 = z4 ^ (z4 >> 31);
  assign rand_o = z5[63 -: RandWidth];

  logic unused_low;
  assign unused_low = ^z5[63-RandWidth:0];

endmodule
