// ristsim_out_fixed: the accumulator (AccWidth bits on the grid 2^-FracBits)
// converted to a fixed-point output fixed<OutWidth, OutFl>.
//
// Algorithm (docs/datapath.md step 6): Shift = FracBits - OutFl. Shift <= 0:
// an exact left shift. Shift > 0: the floor by an arithmetic right shift plus
// the rounding decision of ristsim_round_up on the Shift dropped bits (Mode;
// stochastic with rand_i). Then the overflow mode on OutWidth bits: the value
// fits iff its bits above OutWidth - 1 all agree with bit OutWidth - 1; if not,
// sat_o is set and the result is clamped to the nearest extreme (Wrap = 0) or
// keeps its low bits (Wrap = 1).
// Runtime = 1 (arch runtime_fl): the shift comes from shift_i, a per-layer
// configuration value, through ristsim_shift_round (left shifts beyond
// OutWidth are clamped: every nonzero value overflows there alike).
// Cost: a rounding incrementer and a clamp, O(AccWidth) area, O(log AccWidth)
// delay; with Runtime two barrel shifters more.
module ristsim_out_fixed #(
  parameter int unsigned AccWidth  = 32,
  parameter int          FracBits  = 0,
  parameter int unsigned OutWidth  = 8,
  parameter int          OutFl     = 0,
  parameter int unsigned Mode      = 0,     // ristsim_round_up's modes
  parameter bit          Wrap      = 1'b0,  // overflow: 0 saturate, 1 wrap
  parameter int unsigned RandWidth = 16,
  parameter bit          Runtime   = 1'b0,  // the shift is shift_i (FracBits, OutFl unused)
  parameter int unsigned ShWidth   = 10
) (
  input  logic [AccWidth-1:0]  acc_i,
  input  logic [RandWidth-1:0] rand_i,
  input  logic [ShWidth-1:0]   shift_i,  // Runtime: F - FL of the layer (signed)
  output logic [OutWidth-1:0]  out_o,
  output logic                 sat_o
);

  localparam int          Shift = FracBits - OutFl;
  // Width of the rounded value: the shifted accumulator, or its floor.
  localparam int unsigned RW    = Runtime ? AccWidth + OutWidth
                                : Shift <= 0 ? AccWidth - Shift
                                             : (AccWidth > Shift ? AccWidth : Shift + 1);

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (OutWidth >= 1 && RW <= 126) else $fatal(1, "ristsim_out_fixed: widths out of range");
  end
`endif

  logic [RW-1:0] rounded;
  if (Runtime) begin : g_runtime
    logic unused_rand;
    assign unused_rand = ^rand_i;
    ristsim_shift_round #(
      .InWidth (AccWidth),
      .ShWidth (ShWidth),
      .MaxLeft (OutWidth),
      .Mode    (Mode),
      .OutWidth(RW)
    ) u_shift_round (
      .val_i  (acc_i),
      .shift_i(shift_i),
      .val_o  (rounded)
    );
  end else if (Shift <= 0) begin : g_left
    logic unused_shift;
    assign unused_shift = ^shift_i;
    logic unused_rand;
    assign unused_rand = ^rand_i;
    assign rounded = RW'($signed(acc_i)) <<< (-Shift);
  end else begin : g_right
    logic unused_shift;
    assign unused_shift = ^shift_i;
    logic [RW-1:0] acc_ext, floor_q;
    logic          up;
    assign acc_ext = RW'($signed(acc_i));
    assign floor_q = $signed(acc_ext) >>> Shift;
    ristsim_round_up #(
      .Mode     (Mode),
      .Shift    (Shift),
      .RandWidth(RandWidth)
    ) u_round_up (
      .floor_odd_i(floor_q[0]),
      .neg_i      (acc_ext[RW-1]),
      .rem_i      (acc_ext[Shift-1:0]),
      .rand_i     (rand_i),
      .up_o       (up)
    );
    assign rounded = floor_q + RW'(up);
  end

  if (RW <= OutWidth) begin : g_fits
    assign out_o = OutWidth'($signed(rounded));
    assign sat_o = 1'b0;
  end else begin : g_clamp
    logic fits;
    assign fits  = (rounded[RW-1:OutWidth-1] == '0) | (rounded[RW-1:OutWidth-1] == '1);
    assign sat_o = ~fits;
    if (Wrap) begin : g_wrap
      assign out_o = rounded[OutWidth-1:0];  // wrap: the low bits
    end else begin : g_saturate
      assign out_o = fits ? rounded[OutWidth-1:0]
                          : {rounded[RW-1], {(OutWidth-1){~rounded[RW-1]}}};
    end
  end

endmodule
