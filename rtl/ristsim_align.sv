// ristsim_align: puts one value on the accumulator grid 2^-F.
//
// Algorithm: Shift = (fractional bits of the input) - F. Shift <= 0: an exact
// arithmetic left shift by -Shift. Shift > 0: the floor by an arithmetic right
// shift, then + 1 when the alignment rounding (Mode, ristsim_round_up) says so,
// judged on the Shift dropped bits.
// OutWidth is growth.h aligned_type() (a parameter from the top); this module
// checks it independently: -Shift bits of growth for a left shift, and for a
// right shift InWidth - Shift bits (at least 1), one more at most for the
// rounding carry.
// Cost: wires for a left shift; a Shift-bit compare and an OutWidth-bit
// incrementer for a rounded right shift. O(1) delay.
module ristsim_align #(
  parameter int unsigned InWidth  = 16,
  parameter int unsigned OutWidth = 16,
  parameter int          Shift    = 0,
  parameter int unsigned Mode     = 0  // ristsim_round_up's modes (not stochastic)
) (
  input  logic [InWidth-1:0]  val_i,
  output logic [OutWidth-1:0] val_o
);

  localparam int Kept = InWidth - Shift;  // bits of the floor that can be nonzero

`ifndef SYNTHESIS
  initial begin : p_assert_width
    if (Shift <= 0) begin
      assert (OutWidth == InWidth - Shift)
        else $fatal(1, "ristsim_align: a left shift by %0d needs %0d bits", -Shift, Kept);
    end else begin
      assert (OutWidth >= 1 && OutWidth <= (Kept > 1 ? Kept + 1 : 2) &&
              (OutWidth >= Kept || OutWidth == 1))
        else $fatal(1, "ristsim_align: OutWidth %0d out of range for a right shift", OutWidth);
    end
    assert (Mode <= 4) else $fatal(1, "ristsim_align: stochastic alignment is not allowed");
  end
`endif

  if (Shift <= 0) begin : g_left
    assign val_o = OutWidth'($signed(val_i)) <<< (-Shift);
  end else begin : g_right
    localparam int unsigned ExtWidth = (InWidth > Shift) ? InWidth : Shift + 1;
    logic [ExtWidth-1:0] val_ext;
    logic [ExtWidth-1:0] floor_q;
    logic                up;
    assign val_ext = ExtWidth'($signed(val_i));
    assign floor_q = $signed(val_ext) >>> Shift;
    ristsim_round_up #(
      .Mode     (Mode),
      .Shift    (Shift),
      .RandWidth(1)
    ) u_round_up (
      .floor_odd_i(floor_q[0]),
      .neg_i      (val_ext[ExtWidth-1]),
      .rem_i      (val_ext[Shift-1:0]),
      .rand_i     (1'b0),
      .up_o       (up)
    );
    assign val_o = OutWidth'(floor_q + ExtWidth'(up));
  end

endmodule
