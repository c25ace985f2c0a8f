// ristsim_shift_round: a two's complement value shifted by a run-time amount:
// left (exact) or right with the rounding decision of rounding.h.
//
// Algorithm: shift_i < 0: val << -shift_i, exact (the caller bounds the
// amount by MaxLeft, beyond which its result no longer changes: docs/rtl.md,
// runtime_fl). shift_i >= 0: floor = val >>> S and rem = val mod 2^S with
// S = min(shift_i, InWidth + 1) (beyond InWidth + 1 the value is within a
// quarter of 0 and every deterministic mode rounds it the same), then + 1 when
// the mode says so (ristsim_round_up's table, with half = 2^(S-1) and the
// dropped-bit mask computed from S). Stochastic rounding has no run-time form
// here (runtime_fl refuses it).
// Cost: a barrel shifter each way, a mask, a comparator and an incrementer;
// O(log InWidth) delay.
module ristsim_shift_round #(
  parameter int unsigned InWidth  = 16,
  parameter int unsigned ShWidth  = 10,  // the signed shift amount's bits
  parameter int unsigned MaxLeft  = 32,  // the largest left shift (larger ones are clamped)
  parameter int unsigned Mode     = 0,   // ristsim_round_up's modes 0..4
  parameter int unsigned OutWidth = 48   // InWidth + max(MaxLeft, 1)
) (
  input  logic [InWidth-1:0]  val_i,
  input  logic [ShWidth-1:0]  shift_i,  // signed: > 0 right, < 0 left
  output logic [OutWidth-1:0] val_o
);

  localparam int unsigned RightMax = InWidth + 1;
  localparam int unsigned ExtWidth = InWidth + 2;

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (OutWidth == InWidth + (MaxLeft > 1 ? MaxLeft : 1) && Mode <= 4 &&
            RightMax < (1 << (ShWidth - 1)) && MaxLeft < (1 << (ShWidth - 1)))
      else $fatal(1, "ristsim_shift_round: OutWidth is InWidth + max(MaxLeft, 1), modes 0..4");
  end
`endif

  logic               left;
  logic [ShWidth-1:0] amount_l, amount_r;
  assign left     = shift_i[ShWidth-1];
  assign amount_l = -shift_i;
  assign amount_r = (shift_i > ShWidth'(RightMax)) ? ShWidth'(RightMax) : shift_i;

  // Left: exact, the amount clamped to MaxLeft.
  logic [OutWidth-1:0] shl;
  assign shl = OutWidth'($signed(val_i)) <<<
               ((amount_l > ShWidth'(MaxLeft)) ? ShWidth'(MaxLeft) : amount_l);

  // Right: floor, dropped bits, the rounding decision.
  logic [ExtWidth-1:0] ext, floor_v, rem, half, rounded;
  logic                neg, nz, up;
  assign ext     = ExtWidth'($signed(val_i));
  assign neg     = val_i[InWidth-1];
  assign floor_v = $signed(ext) >>> amount_r;
  assign rem     = ext & ~({ExtWidth{1'b1}} << amount_r);
  assign half    = (amount_r == '0) ? '0 : ExtWidth'(1) << (amount_r - ShWidth'(1));
  assign nz      = (rem != '0);
  if (Mode == 0) begin : g_nearest_even
    logic unused_neg;
    assign unused_neg = neg;
    assign up = nz & ((rem > half) | ((rem == half) & floor_v[0]));
  end else if (Mode == 1) begin : g_nearest_away
    assign up = nz & ((rem > half) | ((rem == half) & ~neg));
  end else if (Mode == 2) begin : g_toward_zero
    logic unused_half;
    assign unused_half = ^half;
    assign up = nz & neg;
  end else if (Mode == 3) begin : g_down
    logic unused_round;
    assign unused_round = ^{nz, neg, half};
    assign up = 1'b0;
  end else begin : g_up
    logic unused_round;
    assign unused_round = ^{neg, half};
    assign up = nz;
  end
  assign rounded = floor_v + ExtWidth'(up);

  assign val_o = left ? shl : OutWidth'($signed(rounded));

endmodule
