// ristsim_mx_align: the shared-scale alignment of an OCP MX block (docs/datapath.md,
// "MX blocks"): puts a block's exact sum of element products onto the
// accumulator's grid 2^-F, scaled by the two blocks' E8M0 scales.
//
// Algorithm: the block sum s (SumWidth-bit two's complement, in units of
// 2^-ProductFl, the element products' grid) has the value s * 2^(sa + sw - 254 -
// ProductFl). On the grid 2^-F that is s * 2^Shift with Shift = sa + sw +
// (F - ProductFl - 254), a run-time amount. Shift >= 0: a left shift, kept modulo
// 2^64 (0 from 64 on). Shift < 0: the floor by an arithmetic right shift of
// D = -Shift bits (D clamped to SumWidth + 1, beyond which every value lies
// strictly between -1/2 and 1/2 of a grid step: the same floor and rounding),
// then + 1 when the alignment rounding Mode says so (ristsim_round_up's table,
// judged on the dropped bits). A scale code 255 (NaN) sets nan_o and gives 0.
// This is kernels::mx_align_block() (kernels/reference/exact_mx.cpp) bit for bit.
// Cost: a 9-bit adder for sa + sw, a SumWidth-bit barrel shifter each way
// (O(SumWidth log SumWidth) muxes, O(log SumWidth) delay), a SumWidth-bit
// remainder compare and a 64-bit incrementer. One per PE, used once per block.
module ristsim_mx_align #(
  parameter int unsigned SumWidth  = 42,
  parameter int          ProductFl = 18,
  parameter int          FracBits  = 24,
  parameter int unsigned Mode      = 3  // 0 nearest_even 1 nearest_away 2 toward_zero 3 down 4 up
) (
  input  logic [SumWidth-1:0] sum_i,
  input  logic [7:0]          sa_i,
  input  logic [7:0]          sw_i,
  output logic [63:0]         val_o,
  output logic                nan_o
);

  localparam int unsigned ExtWidth = SumWidth + 1;
  localparam int          Base     = FracBits - ProductFl - 254;

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (SumWidth >= 2 && SumWidth <= 65)
      else $fatal(1, "ristsim_mx_align: SumWidth %0d out of 2..65", SumWidth);
    assert (Mode <= 4) else $fatal(1, "ristsim_mx_align: Mode %0d (stochastic is not allowed)", Mode);
  end
`endif

  logic signed [31:0] shift;
  assign shift = $signed({23'd0, {1'b0, sa_i} + {1'b0, sw_i}}) + 32'(Base);

  // Left shift: the sign-extended sum, modulo 2^64.
  logic [63:0] left;
  assign left = (shift >= 32'sd64) ? 64'd0 : (64'($signed(sum_i)) << shift[5:0]);

  // Right shift by D = min(-shift, ExtWidth) bits.
  logic [31:0]         drop;
  logic [ExtWidth-1:0] ext, floor_q, rem_mask, rem, half;
  logic                up, neg;
  assign drop = (shift <= -32'(ExtWidth)) ? 32'(ExtWidth) : 32'(-shift);
  assign ext = ExtWidth'($signed(sum_i));
  assign neg = ext[ExtWidth-1];
  assign floor_q = $signed(ext) >>> drop;
  assign rem_mask = (drop >= 32'(ExtWidth)) ? {ExtWidth{1'b1}} : ((ExtWidth'(1) << drop) - ExtWidth'(1));
  assign rem = ext & rem_mask;
  assign half = ExtWidth'(1) << (drop - 32'd1);

  always_comb begin : p_round
    unique case (Mode)
      0: up = (rem > half) || (rem == half && floor_q[0]);
      1: up = (rem > half) || (rem == half && !neg);
      2: up = neg && (rem != '0);
      4: up = rem != '0;
      default: up = 1'b0;
    endcase
  end

  logic [63:0] right;
  assign right = 64'($signed(floor_q)) + 64'(up);
  if (ExtWidth > 64) begin : g_unused_floor_hi
    logic unused_floor_hi;  // kept modulo 2^64, as the reference's wrap
    assign unused_floor_hi = ^floor_q[ExtWidth-1:64];
  end

  assign nan_o = (sa_i == 8'hff) || (sw_i == 8'hff);
  assign val_o = nan_o ? 64'd0 : (shift >= 32'sd0 ? left : right);

endmodule
