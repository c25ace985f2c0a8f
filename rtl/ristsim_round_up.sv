// ristsim_round_up: the rounding decision of sim/numeric/rounding.h for a two's
// complement value x dropped by Shift bits, restated on the floor.
//
// floor = x >>> Shift, rem_i = x[Shift-1:0] (the fraction above the floor),
// neg_i = x < 0, floor_odd_i = floor[0]; the rounded value is floor + up_o:
//   Mode 0 nearest_even  rem > half, or rem == half and the floor is odd
//   Mode 1 nearest_away  rem > half, or rem == half and x >= 0
//   Mode 2 toward_zero   x < 0 and rem != 0
//   Mode 3 down          never (the floor)
//   Mode 4 up            rem != 0
//   Mode 5 stochastic    the carry of f + rand_i, f = the first RandWidth bits
//                        of rem / 2^Shift (truncated)
// Worked numbers (fixed<8,1> from F = 3, Shift 2, half 2): x = -10 (-1.25):
// floor -3, rem 2 = half, floor odd: up under nearest_even (-1.0), not under
// nearest_away (-1.5).
// Cost: a Shift-bit comparator (nearest), an OR tree (up, toward_zero) or a
// RandWidth-bit adder (stochastic); O(log Shift) delay.
module ristsim_round_up #(
  parameter int unsigned Mode      = 0,
  parameter int unsigned Shift     = 1,
  parameter int unsigned RandWidth = 16
) (
  input  logic                 floor_odd_i,
  input  logic                 neg_i,
  input  logic [Shift-1:0]     rem_i,
  input  logic [RandWidth-1:0] rand_i,
  output logic                 up_o
);

  localparam int unsigned NearestEven = 0;
  localparam int unsigned NearestAway = 1;
  localparam int unsigned TowardZero  = 2;
  localparam int unsigned Down        = 3;
  localparam int unsigned Up          = 4;

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (Mode <= 5) else $fatal(1, "ristsim_round_up: Mode must be 0..5");
    assert (Shift >= 1) else $fatal(1, "ristsim_round_up: Shift must be >= 1");
  end
`endif

  if (Mode == NearestEven || Mode == NearestAway) begin : g_nearest
    logic tie_up;
    logic unused_in;
    if (Mode == NearestEven) begin : g_even
      assign tie_up    = floor_odd_i;
      assign unused_in = ^{neg_i, rand_i};
    end else begin : g_away
      assign tie_up    = ~neg_i;
      assign unused_in = ^{floor_odd_i, rand_i};
    end
    // With one dropped bit, rem is the half bit: rem > half cannot happen.
    if (Shift == 1) begin : g_half_bit
      assign up_o = rem_i[0] & tie_up;
    end else begin : g_half
      logic [Shift-1:0] half;
      assign half = Shift'(1) << (Shift - 1);
      assign up_o = (rem_i > half) | ((rem_i == half) & tie_up);
    end
  end else if (Mode == TowardZero) begin : g_toward_zero
    logic unused_in;
    assign unused_in = ^{floor_odd_i, rand_i};
    assign up_o = neg_i & (rem_i != '0);
  end else if (Mode == Down) begin : g_down
    logic unused_in;
    assign unused_in = ^{floor_odd_i, neg_i, rem_i, rand_i};
    assign up_o = 1'b0;
  end else if (Mode == Up) begin : g_up
    logic unused_in;
    assign unused_in = ^{floor_odd_i, neg_i, rand_i};
    assign up_o = (rem_i != '0);
  end else begin : g_stochastic
    logic                 unused_in;
    logic [RandWidth-1:0] frac;
    logic [RandWidth-1:0] unused_frac_sum;  // only the carry matters
    assign unused_in = ^{floor_odd_i, neg_i};
    if (Shift >= RandWidth) begin : g_frac_shr
      assign frac = RandWidth'(rem_i >> (Shift - RandWidth));
    end else begin : g_frac_shl
      assign frac = RandWidth'(rem_i) << (RandWidth - Shift);
    end
    assign {up_o, unused_frac_sum} = {1'b0, frac} + {1'b0, rand_i};
  end

endmodule
